using Ingest.Worker.Persistence;
using Npgsql;

namespace Ingest.Tests.Unit.Worker;

public sealed class When_a_database_refusal_is_logged
{
    const string Secret = "PdSecretUser42";

    // Reasons as insert_events_one_by_one words them: "message (SQLSTATE xxxxx): detail".
    [TestCase("value overflows numeric format (SQLSTATE 22003)", "value overflows numeric format (SQLSTATE 22003)")]
    [TestCase("unsupported Unicode escape sequence (SQLSTATE 22P05): \\u0000 cannot be converted to text.", "unsupported Unicode escape sequence (SQLSTATE 22P05)")]
    [TestCase($"invalid input syntax for type json (SQLSTATE 22P02): Token \"{Secret}\" is invalid.", "invalid input syntax for type json (SQLSTATE 22P02)")]
    [TestCase($"null value in column \"type\" of relation \"events\" violates not-null constraint (SQLSTATE 23502): Failing row contains (1, {Secret}).",
        "null value in column \"…\" (SQLSTATE 23502)")]
    [TestCase($"date/time field value out of range: \"{Secret} (SQLSTATE 22008)\" (SQLSTATE 22008)", "date/time field value out of range: \"…\" (SQLSTATE 22008)")]
    [TestCase("userId contains a lone UTF-16 surrogate, which is not Unicode text and cannot be sent to PostgreSQL; found by the worker before writing",
        "userId contains a lone UTF-16 surrogate, which is not Unicode text and cannot be sent to PostgreSQL; found by the worker before writing")]
    public void The_SQLSTATE_and_the_message_are_kept_and_the_quoted_value_and_the_detail_are_not(string reason, string logged)
    {
        Assert.That(DatabaseErrors.ReasonForLog(reason), Is.EqualTo(logged));
        Assert.That(DatabaseErrors.ReasonForLog(reason), Does.Not.Contain(Secret));
    }

    [Test]
    public void A_retried_failure_is_logged_without_postgres_s_detail_and_recorded_with_it()
    {
        var failure = new PostgresException("no partition of relation \"events\" found for row", "ERROR", "ERROR", "23514",
            detail: $"Partition key of the failing row contains (stored_at) = ({Secret}).");

        Assert.That(DatabaseErrors.DescribeForLog(failure), Is.EqualTo("no partition of relation \"events\" found for row (SQLSTATE 23514)"));
        Assert.That(DatabaseErrors.Describe(failure), Does.Contain(Secret), "ingest_transactions.error, in the database, keeps it");
    }
}
