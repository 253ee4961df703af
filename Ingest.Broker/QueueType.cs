namespace Ingest.Broker;

/// <summary>Classic for a single node; quorum for a cluster, where a queue's messages are replicated to a majority of nodes.</summary>
public enum QueueType
{
    Classic,
    Quorum,
}
