using System.Text.Json;

namespace Ingest.Tests.Integration.Worker;

/// <summary>
/// What the worker logged and recorded through a <see cref="FaultDrill"/>, and how long after the fix (by PostgreSQL's
/// clock) its first batch committed and the last event sent was stored.
/// </summary>
public sealed record FaultOutcome(IReadOnlyList<JsonElement> FailedLog, IReadOnlyList<TransactionRow> Transactions, TimeSpan FixToFirstCommit, TimeSpan FixToAllStored);
