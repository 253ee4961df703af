namespace Ingest.Tests.Integration.Logging.Probes;

// MassTransit needs message types in a namespace (ENVIRONMENT.md).
public sealed record TraceBatchProbe(string Test);
