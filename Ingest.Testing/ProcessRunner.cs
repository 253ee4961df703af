using System.Diagnostics;

namespace Ingest.Testing;

/// <summary>Runs a program to its end and returns its exit code and output (standard output, then standard error).</summary>
public static class ProcessRunner
{
    /// <param name="timeout">Killed after this long (with its descendants), and a <see cref="TimeoutException"/> that holds its output so far; null: no limit.</param>
    public static async Task<(int ExitCode, string Output)> RunAsync(ProcessStartInfo start, TimeSpan? timeout = null, CancellationToken ct = default)
    {
        start.RedirectStandardOutput = true;
        start.RedirectStandardError = true;
        start.UseShellExecute = false;
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"{start.FileName} did not start");
        // Read to the end without the token: after a kill the pipes close, and what was written says why.
        var stdout = process.StandardOutput.ReadToEndAsync(CancellationToken.None);
        var stderr = process.StandardError.ReadToEndAsync(CancellationToken.None);
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(ct);
        if (timeout is { } t) limit.CancelAfter(t);
        try
        {
            await process.WaitForExitAsync(limit.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            ct.ThrowIfCancellationRequested();
            var arguments = start.ArgumentList.Count > 0 ? string.Join(' ', start.ArgumentList) : start.Arguments;
            throw new TimeoutException($"{start.FileName} {arguments} did not end within {timeout!.Value.TotalSeconds:0} s:\n{await stdout}{await stderr}");
        }
        return (process.ExitCode, await stdout + await stderr);
    }

    /// <summary>Runs <paramref name="file"/> from the repository's root with <paramref name="environment"/> over this process's.</summary>
    public static Task<(int ExitCode, string Output)> RunAsync(string file, IEnumerable<string> arguments, IEnumerable<KeyValuePair<string, string>>? environment = null,
        TimeSpan? timeout = null, CancellationToken ct = default)
    {
        var start = new ProcessStartInfo(file, arguments) { WorkingDirectory = Repo.Root };
        foreach (var (key, value) in environment ?? []) start.Environment[key] = value;
        return RunAsync(start, timeout, ct);
    }
}
