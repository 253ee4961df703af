namespace Ingest.Database.Privacy;

/// <summary>One subject of a privacy request: <see cref="Kind"/> is <c>userId</c> or <c>anonymousId</c>.</summary>
public sealed record PrivacySubject(string Kind, string Id);
