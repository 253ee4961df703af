
using NUnit.Framework;
using Npgsql;

namespace Ingest.Testing;

/// <summary>Polls a condition until it holds or a deadline passes: tests wait for outcomes, never for fixed times.</summary>
public static class Eventually
{
    /// <summary>
    /// Asks <paramref name="condition"/> every 100 ms until it holds, and fails the test with what
    /// <paramref name="describe"/> says if it has not within <paramref name="within"/>. A server not listening yet
    /// (<see cref="HttpRequestException"/>) and the test's own pooled connections broken by a PostgreSQL restart (a
    /// transient <see cref="NpgsqlException"/>) count as "not yet". The token the condition gets is cancelled at the deadline;
    /// a condition that must also stop with the test throws on the test's own token.
    /// </summary>
    public static async Task HoldsAsync(Func<CancellationToken, Task<bool>> condition, TimeSpan within, Func<string> describe)
    {
        using var deadline = new CancellationTokenSource(within);
        while (true)
        {
            try
            {
                if (await condition(deadline.Token)) return;
            }
            catch (OperationCanceledException) when (deadline.IsCancellationRequested)
            {
                break;
            }
            catch (HttpRequestException)
            {
                // not listening yet: ask again
            }
            catch (NpgsqlException e) when (e.IsTransient)
            {
                // the test's own pooled connections break when PostgreSQL restarts: ask again
            }
            try
            {
                await Task.Delay(100, deadline.Token);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }
        Assert.Fail($"not within {within.TotalSeconds:0} s: {describe()}");
    }
}
