namespace Ingest.Testing;

/// <summary>Where the repository and its build outputs are, seen from this test assembly.</summary>
public static class Repo
{
    public static string Root { get; } = FindRoot();

    /// <summary>Release or Debug: the configuration this assembly was built in, so the hosts it starts match it.</summary>
    public static string Configuration { get; } = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar)).Parent!.Name;

    /// <summary>
    /// &lt;repo&gt;/&lt;project&gt;/bin/&lt;configuration&gt;/net10.0/&lt;project&gt;.dll, built before this project (see StressTests.csproj);
    /// INGEST_API_DLL or INGEST_WORKER_DLL, when set, names another build to start instead.
    /// </summary>
    public static string HostDll(string project) =>
        project switch { "Ingest.Api" => "INGEST_API_DLL", "Ingest.Worker" => "INGEST_WORKER_DLL", _ => null } is { } variable
        && Environment.GetEnvironmentVariable(variable) is { Length: > 0 } dll
            ? dll
            : Path.Combine(Root, project, "bin", Configuration, "net10.0", project + ".dll");

    static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Analytics.sln"))) return dir.FullName;
        throw new InvalidOperationException("Analytics.sln not found above " + AppContext.BaseDirectory);
    }
}
