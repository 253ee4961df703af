
namespace Ingest.Tests.Integration.Queries;

/// <summary>PostgreSQL stops and starts again while a client tails its source.</summary>
public sealed class When_the_database_goes_away_under_a_tail
{
    [Test]
    public async Task The_client_is_told_and_kept_and_receives_what_is_stored_once_it_is_back()
    {
        var (source, _, readKey) = await ReadSide.CreateSourceAsync();
        await using var client = await SseClient.OpenAsync("/v1/events/stream", readKey);
        await TestStack.StackAsync("stop-postgres");
        try
        {
            await client.CommentAsync("database unavailable", TimeSpan.FromSeconds(20));
        }
        finally
        {
            await TestStack.StackAsync("start-postgres");
        }
        var stored = StoredEvent.Track(source, "Back", "u1", DateTime.UtcNow);
        await Eventually.HoldsAsync(async _ =>
        {
            try { await StoredEvent.InsertAsync([stored]); return true; }
            catch (Npgsql.NpgsqlException) { return false; }
        }, TimeSpan.FromSeconds(30), () => "PostgreSQL to accept the row");
        Assert.That((await client.NextAsync(TimeSpan.FromSeconds(15))).Id, Is.EqualTo(stored.Id));
    }
}
