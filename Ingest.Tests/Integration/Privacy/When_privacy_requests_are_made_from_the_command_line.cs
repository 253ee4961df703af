using Ingest.Tests.Integration.Queries;

namespace Ingest.Tests.Integration.Privacy;

/// <summary>
/// Ops make a suppress_with_delete request with <c>Ingest.Worker privacy request</c> and follow it with
/// <c>privacy status</c> and <c>privacy subject</c>; a running worker carries it out as it does the API's. The admin key
/// of the command line is named <c>cli</c> in the audit record.
/// </summary>
[TestFixture, CancelAfter(180_000)]
public sealed class When_privacy_requests_are_made_from_the_command_line
{
    static readonly Dictionary<string, string> Env = new() { ["ConnectionStrings__Postgres"] = TestStack.ConnectionString };

    static async Task<(int ExitCode, string Output)> CliAsync(string arguments) =>
        await TestStack.RunAsync("dotnet", $"\"{TestStack.WorkerDll}\" privacy {arguments}", Env);

    [Test]
    public async Task The_subject_is_erased_and_suppressed_and_the_receipt_is_printed()
    {
        await using var stack = await PrivacyStack.StartAsync();
        await StoredEvent.InsertAsync([StoredEvent.Track(stack.SourceId, "Stored", "c-user", DateTime.UtcNow), StoredEvent.Track(stack.SourceId, "Kept", "c-other", DateTime.UtcNow)]);

        var (exit, output) = await CliAsync($"request {stack.SourceId} suppress_with_delete --user-id c-user");
        Assert.That(exit, Is.Zero, output);
        var id = Guid.Parse(output.Trim().Split(' ')[0]);
        var receipt = await stack.DoneAsync(id);
        Assert.That(receipt.GetProperty("key").GetString(), Is.EqualTo("cli"));
        Assert.That(receipt.GetProperty("removed").GetProperty("events").GetInt64(), Is.EqualTo(1));

        (exit, output) = await CliAsync($"status {stack.SourceId} {id}");
        Assert.That(exit, Is.Zero, output);
        Assert.That(output, Does.Contain("suppress_with_delete  done").And.Contain("removed: 1 events, 0 quarantined events, 0 dead-lettered events"));
        (exit, output) = await CliAsync($"subject {stack.SourceId} --user-id c-user");
        Assert.That(exit, Is.Zero, output);
        Assert.That(output, Does.StartWith("0 events, 0 quarantined events; suppressed"));
        Assert.That(await stack.StoredAsync(userId: "c-other"), Is.EqualTo(1), "another user's event intact");

        await Eventually.HoldsAsync(async t =>
        {
            using var probe = await stack.SendAsync("/v1/track", new { userId = "c-user", @event = "After" });
            return await stack.SuppressedEventsAsync(t) > 0;
        }, TimeSpan.FromSeconds(15), () => "the API to suppress the subject after the request");
    }

    [TestCase("request")]
    [TestCase("request src forget --user-id a")]
    [TestCase("request src delete")]
    [TestCase("request src delete --user-id")]
    [TestCase("request src delete --email a")]
    [TestCase("status src not-a-guid")]
    [TestCase("subject src")]
    public async Task A_bad_command_fails_with_the_usage(string arguments)
    {
        var (exit, output) = await CliAsync(arguments);
        Assert.That(exit, Is.EqualTo(2), output);
        Assert.That(output, Does.Contain("Ingest.Worker privacy request"));
    }
}
