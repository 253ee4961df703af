using Ingest.Api.Tracking;

namespace Ingest.Api.Keys;

/// <summary>
/// What a key opens: its source, its scope (write or read), the source's allowed browser origins and what it stores of
/// a client's IP. A snapshot written before sources had an IP policy has none: such keys anonymize, the default.
/// </summary>
public sealed record SourceKey(string SourceId, string Scope, string[] AllowedOrigins, IpPolicy IpPolicy = IpPolicy.Anonymize);
