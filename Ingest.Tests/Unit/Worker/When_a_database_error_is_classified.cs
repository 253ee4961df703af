using System.Net.Sockets;
using Ingest.Database;
using Ingest.Worker.Persistence;
using Npgsql;

namespace Ingest.Tests.Unit.Worker;

public sealed class When_a_database_error_is_classified
{
    static PostgresException Postgres(string sqlState, string message = "refused") =>
        new(message, "ERROR", "ERROR", sqlState);

    [TestCase("22003")] // numeric value out of range / value overflows numeric format
    [TestCase("22P05")] // unsupported Unicode escape (NUL in jsonb)
    [TestCase("22021")] // character not in repertoire
    [TestCase("23502")] // not-null violation
    [TestCase("54000")] // index row too large
    public void Refused_data_is_isolated_and_never_retried(string sqlState)
    {
        Assert.That(DatabaseErrors.IsRefusedData(Postgres(sqlState)), Is.True);
        Assert.That(DatabaseAvailability.IsUnavailable(Postgres(sqlState)), Is.False);
    }

    [Test]
    public void A_missing_partition_is_retried_not_blamed_on_the_data()
    {
        var missing = Postgres("23514", "no partition of relation \"events\" found for row");

        Assert.That(DatabaseErrors.IsRefusedData(missing), Is.False);
        Assert.That(DatabaseErrors.Action(missing), Does.Contain("partition maintenance"));
        Assert.That(DatabaseErrors.IsRefusedData(Postgres("23514", "new row violates check constraint")), Is.True, "other check violations are the data's");
    }

    [TestCase("57P01")] // admin shutdown
    [TestCase("57P03")] // cannot connect now (starting up)
    [TestCase("53300")] // too many connections
    [TestCase("40P01")] // deadlock
    [TestCase("40001")] // serialization failure
    [TestCase("08006")] // connection failure
    [TestCase("28P01")] // password authentication failed: a deploy fault, not the batch's
    [TestCase("3D000")] // the database does not exist (yet)
    public void Outages_and_races_are_retried(string sqlState)
    {
        Assert.That(DatabaseAvailability.IsUnavailable(Postgres(sqlState)), Is.True);
        Assert.That(DatabaseErrors.IsRefusedData(Postgres(sqlState)), Is.False);
    }

    [Test]
    public void A_refused_connection_is_retried() =>
        Assert.That(DatabaseAvailability.IsUnavailable(new NpgsqlException("Failed to connect", new SocketException((int)SocketError.ConnectionRefused))), Is.True);

    [TestCase("42P01")] // undefined table: a deployment error, retried until the schema is migrated
    [TestCase("42601")] // syntax error
    public void Bugs_are_neither_transient_nor_blamed_on_the_data(string sqlState)
    {
        Assert.That(DatabaseAvailability.IsUnavailable(Postgres(sqlState)), Is.False);
        Assert.That(DatabaseErrors.IsRefusedData(Postgres(sqlState)), Is.False);
    }

    [TestCase("25006")] // read-only transaction: a failover left the worker on a standby
    [TestCase("57014")] // statement timeout
    [TestCase("42501")] // insufficient privilege
    [TestCase("42P01")] // undefined table
    [TestCase("53100")] // disk full
    [TestCase("08006")] // connection failure
    [TestCase("22003")] // refused data that escaped the writer's isolation (a quarantine row refused): still not for the error queue
    public void Every_database_failure_is_retried_while_the_worker_runs(string sqlState) =>
        Assert.That(DatabaseErrors.IsRetried(Postgres(sqlState), CancellationToken.None), Is.True);

    [Test]
    public void A_fault_in_the_worker_itself_is_retried() =>
        Assert.That(DatabaseErrors.IsRetried(new InvalidOperationException("a bug while serializing a quarantine row"), CancellationToken.None), Is.True);

    [Test]
    public void Nothing_is_retried_once_the_worker_stops()
    {
        using var stopping = new CancellationTokenSource();
        stopping.Cancel();
        Assert.That(DatabaseErrors.IsRetried(new OperationCanceledException(stopping.Token), stopping.Token), Is.False);
        Assert.That(DatabaseErrors.IsRetried(Postgres("08006"), stopping.Token), Is.False);
    }

    [TestCase("25006", "point ConnectionStrings:Postgres at the primary")]
    [TestCase("42501", "grant INSERT and SELECT on events")]
    [TestCase("42P01", "run `Ingest.Worker migrate`")]
    [TestCase("57014", "raise statement_timeout or lower Ingest:Worker:MessageLimit")]
    [TestCase("53100", "disk is full")]
    [TestCase("28P01", "check the user and password in ConnectionStrings:Postgres")]
    [TestCase("57P01", "check PostgreSQL at ConnectionStrings:Postgres")]
    [TestCase("XX000", "SQLSTATE XX000")]
    public void The_action_says_what_ops_must_do(string sqlState, string action) =>
        Assert.That(DatabaseErrors.Action(Postgres(sqlState)), Does.Contain(action));

    [Test]
    public void The_action_for_a_fault_in_the_worker_asks_for_a_report() =>
        Assert.That(DatabaseErrors.Action(new InvalidOperationException("bug")), Does.Contain("a fault in the worker itself"));

    [Test]
    public void The_reason_names_the_message_and_the_sqlstate() =>
        Assert.That(DatabaseErrors.Describe(Postgres("22003", "value overflows numeric format")), Is.EqualTo("value overflows numeric format (SQLSTATE 22003)"));
}
