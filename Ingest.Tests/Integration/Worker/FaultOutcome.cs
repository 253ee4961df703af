using System.Text.Json;

namespace Ingest.Tests.Integration.Worker;

/// <summary>What the worker logged and recorded through a <see cref="FaultDrill"/>.</summary>
public sealed record FaultOutcome(IReadOnlyList<JsonElement> FailedLog, IReadOnlyList<TransactionRow> Transactions);
