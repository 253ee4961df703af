namespace Ingest.Tests.Integration.Fuzz;

/// <summary>What the API must do with a generated piece of a message, by the contract of docs/sending-events.md.</summary>
public enum Verdict
{
    /// <summary>Well-formed and storable: the message holding it must be accepted.</summary>
    Accept,

    /// <summary>Odd but not decided by the contract (an extreme date, a duplicated key): accepted or refused, never 5xx.</summary>
    Either,

    /// <summary>Refused by the contract (NUL, not Unicode, a number jsonb cannot hold, a wrong type): never accepted.</summary>
    Refuse,
}
