namespace Ingest.Database.Privacy;

/// <summary>What a privacy request asks, as Segment names its regulations (SUPPRESS_ONLY, UNSUPPRESS, DELETE_ONLY, SUPPRESS_WITH_DELETE).</summary>
public static class PrivacyRequestType
{
    public const string Suppress = "suppress";
    public const string Unsuppress = "unsuppress";
    public const string Delete = "delete";
    public const string SuppressWithDelete = "suppress_with_delete";

    public static readonly string[] All = [Suppress, Unsuppress, Delete, SuppressWithDelete];

    public static bool Suppresses(string type) => type is Suppress or SuppressWithDelete;
    public static bool Deletes(string type) => type is Delete or SuppressWithDelete;
}
