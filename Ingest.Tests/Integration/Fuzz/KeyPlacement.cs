namespace Ingest.Tests.Integration.Fuzz;

/// <summary>Where the request carries its key, and which key.</summary>
public enum KeyPlacement
{
    Basic,
    Bearer,
    InBody,
    InQuery,
    Missing,
    Unknown,
    ReadKey,
}
