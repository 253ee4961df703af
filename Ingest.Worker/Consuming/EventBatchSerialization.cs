using System.Text.Json;

namespace Ingest.Worker.Consuming;

/// <summary>
/// How the worker reads an <see cref="Ingest.Contracts.EventBatch"/>: MassTransit's options, stricter. A message that
/// does not deserialize faults alone, before it joins a batch, and MassTransit moves it to the queue's _error queue;
/// the rest of the batch is stored. A null where the contract has none (events, sourceId…) must fail here too: past
/// this point it would fault the whole batch, or be retried for ever. Used by the host and by the contract tests.
/// </summary>
public static class EventBatchSerialization
{
    /// <summary>For <c>ConfigureJsonSerializerOptions</c>, which hands a copy of MassTransit's options.</summary>
    public static JsonSerializerOptions Configure(JsonSerializerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.RespectNullableAnnotations = true;
        options.RespectRequiredConstructorParameters = true;
        options.Converters.Add(new EventListWithoutNulls()); // the annotations do not reach list elements
        return options;
    }
}
