using Dapper;
using Ingest.Database.Privacy;
using Ingest.Tests.Integration.Queries;
using static Microsoft.Playwright.Assertions;

namespace Ingest.Tests.Integration.Dashboard;

/// <summary>
/// The pipeline view: the health of each part, the transaction log with failures and their reasons, the quarantine,
/// replayed from the page through the real broker and worker, and the privacy requests with their receipts.
/// </summary>
[TestFixture, CancelAfter(180_000)]
public sealed class When_the_pipeline_view_is_open
{
    const string InsertFailedAttempt = """
        insert into ingest_transactions (id, worker_host, started_at, finished_at, status, broker_messages, events, attempt, error)
        values (@Id, 'test-worker/1', now(), now() + interval '40 milliseconds', 'failed', 1, 12, 1, @Error)
        """;

    /// <summary>A request as the worker's PrivacyRunner leaves it after Ingest:Privacy:MaxAttempts failed claims.</summary>
    const string InsertFailedRequest = """
        insert into privacy_requests (id, source_id, key_prefix, type, status, reason, subjects, requested_at, started_at, finished_at, attempts)
        values (@Id, @SourceId, 'ak_test', 'suppress', 'failed', @Reason, 2, now() - interval '2 minutes', now() - interval '2 minutes', now() - interval '1 minute', 20)
        """;

    DashboardStack _stack = null!;

    [OneTimeSetUp]
    public async Task Start()
    {
        _stack = await DashboardStack.StartAsync();
        await _stack.SendTrackEventsAsync(3, ["Before Pipeline"]);
    }

    [OneTimeTearDown]
    public async Task Stop() => await _stack.DisposeAsync();

    [Test]
    public async Task A_quarantined_event_is_replayed_from_the_page_and_then_shows_as_stored()
    {
        // The row as the worker writes it when the database refuses an event; its cause is gone, so the replay stores it.
        var evt = QuarantinedRow.Event(_stack.SourceId);
        await QuarantinedRow.InsertAsync(_stack.SourceId, evt, "numeric field overflow (SQLSTATE 22003)");
        var page = await DashboardPage.SignedInAsync(_stack);
        await DashboardPage.ViewAsync(page, "pipeline");
        var row = page.Locator($"#quarantine-table tr[data-message-id='{evt.MessageId}']");
        await Expect(row.Locator("td.error-text")).ToHaveTextAsync("numeric field overflow (SQLSTATE 22003)");
        await Expect(row.Locator("td.state")).ToHaveTextAsync("waiting for replay");

        await row.Locator("button.replay").ClickAsync();

        await Expect(row.Locator("td.state")).ToHaveTextAsync("stored", new() { Timeout = 30_000 });
        await Expect(row.Locator("button.replay")).ToBeDisabledAsync();
        var status = await DashboardPage.GetJsonAsync(_stack, $"/v1/events/{evt.MessageId}");
        Assert.That(status.GetProperty("status").GetString(), Is.EqualTo("stored"), "the API has it stored");
        Assert.That(status.GetProperty("event").GetProperty("event").GetString(), Is.EqualTo("Quarantined Once"));
        await page.Context.CloseAsync();
    }

    [Test]
    public async Task The_health_of_each_part_and_the_committed_transactions_are_shown()
    {
        var page = await DashboardPage.SignedInAsync(_stack);
        await DashboardPage.ViewAsync(page, "pipeline");

        foreach (var part in new[] { "api", "broker", "worker", "database" })
            await Expect(page.Locator($"#health-{part} .state")).ToHaveTextAsync("up");
        await Expect(page.Locator("#health-worker .detail")).ToContainTextAsync($"1 consumer(s) on {_stack.Api.Queue}");
        await Expect(page.Locator("#health-broker .detail")).ToContainTextAsync($"0 waiting in {_stack.Api.Queue}");

        var committed = (await TransactionsAsync()).First(t => t.WorkerHost == _stack.Worker.WorkerHost);
        var row = page.Locator($"#tx-table tr[data-id='{committed.Id}']");
        await Expect(row).ToHaveAttributeAsync("data-status", "committed");
        Assert.That(await row.Locator("td").AllTextContentsAsync(), Has.Member("committed").And.Member(committed.Inserted.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        await Expect(page.Locator("#tx-chart canvas")).ToHaveCountAsync(1);
        await page.Context.CloseAsync();
    }

    [Test]
    public async Task A_failed_attempt_is_highlighted_with_its_reason()
    {
        var id = Guid.NewGuid();
        await using (var conn = await TestStack.Database.OpenConnectionAsync())
            await conn.ExecuteAsync(InsertFailedAttempt, new { Id = id, Error = "57P01: terminating connection due to administrator command" });
        var page = await DashboardPage.SignedInAsync(_stack);
        await DashboardPage.ViewAsync(page, "pipeline");

        var row = page.Locator($"#tx-table tr[data-id='{id}']");
        await Expect(row).ToHaveClassAsync("failed");
        await Expect(row.Locator("td.error-text")).ToHaveTextAsync("57P01: terminating connection due to administrator command");
        await Expect(row.Locator("td").Nth(1)).ToHaveTextAsync("failed, retrying");
        await Expect(row.Locator("td").Nth(7)).ToHaveTextAsync("40 ms");

        await page.SelectOptionAsync("#tx-form [name=status]", "failed");
        await Expect(page.Locator("#tx-table tbody tr[data-status='committed']")).ToHaveCountAsync(0);
        await Expect(row).ToBeVisibleAsync();
        await page.Context.CloseAsync();
    }

    [Test]
    public async Task Privacy_requests_show_with_their_receipts_and_a_failed_one_with_its_reason()
    {
        var ct = TestContext.CurrentContext.CancellationToken;
        // Recorded as the admin endpoint records it; the stack's worker carries it out (there is nothing of x to remove).
        var deletion = await PrivacyRecords.CreateAsync(TestStack.Database, _stack.SourceId, "test", PrivacyRequestType.Delete, [new PrivacySubject("userId", "x")], ct);
        var failed = Guid.CreateVersion7();
        await using (var conn = await TestStack.Database.OpenConnectionAsync(ct))
        {
            await conn.ExecuteAsync(new CommandDefinition(InsertFailedRequest, new { Id = failed, _stack.SourceId, Reason = "dead letters not rewritten: broker unreachable" }, cancellationToken: ct));
            await Eventually.HoldsAsync(async t => await conn.ExecuteScalarAsync<string>(new CommandDefinition(
                "select status from privacy_requests where id = @Id", new { Id = deletion }, cancellationToken: t)) == "done",
                TimeSpan.FromSeconds(30), () => $"the worker to carry out the deletion:\n{_stack.Worker.Output}");
        }
        var page = await DashboardPage.SignedInAsync(_stack);
        await DashboardPage.ViewAsync(page, "pipeline");

        var done = page.Locator($"#privacy-table tr[data-id='{deletion}']");
        await Expect(done.Locator("td.state")).ToHaveTextAsync("done");
        var cells = (await done.Locator("td").AllTextContentsAsync()).ToArray();
        Assert.That(cells[1], Is.EqualTo("delete"));
        Assert.That(cells[3], Is.EqualTo("1"), "one subject");
        Assert.That(cells[4..6], Has.All.Match(@"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$"), "started and finished");
        Assert.That(cells[6..9], Is.EqualTo(new[] { "0", "0", "0" }), "nothing removed");
        Assert.That(cells[9], Is.EqualTo("test"), "the key that made it");
        Assert.That(cells[10], Is.Empty, "no reason");

        var failedRow = page.Locator($"#privacy-table tr[data-id='{failed}']");
        await Expect(failedRow).ToHaveClassAsync("failed");
        await Expect(failedRow.Locator("td.state")).ToHaveTextAsync("failed");
        await Expect(failedRow.Locator("td.error-text")).ToHaveTextAsync("dead letters not rewritten: broker unreachable");
        await Expect(failedRow.Locator("td").Nth(3)).ToHaveTextAsync("2");
        await Expect(page.Locator("#privacy-table tbody tr").First).ToHaveAttributeAsync("data-id", deletion.ToString());
        await Expect(page.Locator("#privacy-suppressed-subjects")).ToHaveTextAsync("0");
        await Expect(page.Locator("#privacy-suppressed-events")).ToHaveTextAsync("0");
        Assert.That(await page.Locator("#privacy-table").TextContentAsync(), Does.Not.Contain("userId"), "no subject shown");
        await page.Context.CloseAsync();
    }

    static async Task<List<(Guid Id, string WorkerHost, int Inserted)>> TransactionsAsync()
    {
        await using var conn = await TestStack.Database.OpenConnectionAsync();
        return (await conn.QueryAsync<(Guid, string, int)>(
            "select id, worker_host, inserted from ingest_transactions where status = 'committed' order by started_at desc limit 50")).AsList();
    }
}
