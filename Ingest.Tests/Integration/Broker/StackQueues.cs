namespace Ingest.Tests.Integration.Broker;

/// <summary>The stack's queues as ops see them: <c>deploy/stack.sh queues</c> (rabbitmqctl list_queues name type messages).</summary>
public static class StackQueues
{
    public static async Task<string?> TypeOfAsync(string queue)
    {
        var (exitCode, output) = await TestStack.RunAsync("bash", "deploy/stack.sh queues", new Dictionary<string, string>());
        Assert.That(exitCode, Is.Zero, output);
        return output.Split('\n').Select(l => l.Split('\t', ' ', StringSplitOptions.RemoveEmptyEntries)).FirstOrDefault(f => f.Length >= 2 && f[0] == queue)?[1];
    }
}
