using System.Reflection;

namespace Ingest.ServiceDefaults;

/// <summary>The version both hosts report, in their health answers and on every log event (Directory.Build.props' Version).</summary>
public static class ServiceVersion
{
    public static string Current { get; } =
        typeof(ServiceVersion).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0] ?? "unknown";
}
