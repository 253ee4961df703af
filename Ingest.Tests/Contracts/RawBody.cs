using System.Net.Mime;
using MassTransit;
using MassTransit.Serialization;

namespace Ingest.Tests.Contracts;

/// <summary>Sends the given bytes as the body, labelled as MassTransit's JSON envelope: what a broken publisher would put on the queue.</summary>
public sealed class RawBody(byte[] body) : IMessageSerializer
{
    public ContentType ContentType => SystemTextJsonMessageSerializer.JsonContentType;

    public MessageBody GetMessageBody<T>(SendContext<T> context) where T : class => new BytesMessageBody(body);
}
