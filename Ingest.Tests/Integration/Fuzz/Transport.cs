namespace Ingest.Tests.Integration.Fuzz;

/// <summary>How a body travels: as it is, compressed as clients compress it, or compressed wrongly.</summary>
public enum Transport
{
    Plain,
    Identity,
    Gzip,
    Zlib,
    RawDeflate,
    UnknownEncoding,
    CorruptGzip,
}
