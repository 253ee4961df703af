namespace Ingest.Api.Keys;

/// <summary>Why a request's key opens nothing; each answers its own problem (<see cref="KeyAuthentication.Refusal"/>).</summary>
public enum KeyFailure { Missing, NotLoaded, Unknown, WrongScope }
