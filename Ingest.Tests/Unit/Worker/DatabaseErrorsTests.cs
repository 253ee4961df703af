extern alias worker;
using System.Net.Sockets;
using worker::Ingest.Worker.Persistence;
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
        Assert.That(DatabaseErrors.IsTransient(Postgres(sqlState)), Is.False);
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
        Assert.That(DatabaseErrors.IsTransient(Postgres(sqlState)), Is.True);
        Assert.That(DatabaseErrors.IsRefusedData(Postgres(sqlState)), Is.False);
    }

    [Test]
    public void A_refused_connection_is_retried() =>
        Assert.That(DatabaseErrors.IsTransient(new NpgsqlException("Failed to connect", new SocketException((int)SocketError.ConnectionRefused))), Is.True);

    [TestCase("42P01")] // undefined table: a deployment error, for the error queue rather than a retry loop
    [TestCase("42601")] // syntax error
    public void Bugs_are_neither_retried_nor_blamed_on_the_data(string sqlState)
    {
        Assert.That(DatabaseErrors.IsTransient(Postgres(sqlState)), Is.False);
        Assert.That(DatabaseErrors.IsRefusedData(Postgres(sqlState)), Is.False);
    }

    [Test]
    public void The_reason_names_the_message_and_the_sqlstate() =>
        Assert.That(DatabaseErrors.Describe(Postgres("22003", "value overflows numeric format")), Is.EqualTo("value overflows numeric format (SQLSTATE 22003)"));
}
