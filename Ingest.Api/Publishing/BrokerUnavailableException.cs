namespace Ingest.Api.Publishing;

/// <summary>The broker did not confirm in time, or the API is not taking more: answer 503 with Retry-After.</summary>
public sealed class BrokerUnavailableException(string message, Exception? inner = null) : Exception(message, inner);
