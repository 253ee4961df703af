using System.Diagnostics.Metrics;
using Ingest.Api.LiveTail;
using Microsoft.Extensions.DependencyInjection;

namespace Ingest.Tests.Integration.Queries;

/// <summary>Ten clients tail one source of one API instance; one event is stored.</summary>
public sealed class When_many_clients_tail_at_once
{
    const int Clients = 10;

    [Test]
    public async Task The_instance_reads_the_database_once_for_all_of_them()
    {
        var (source, _, readKey) = await ReadSide.CreateSourceAsync();
        var clients = new List<SseClient>();
        try
        {
            for (var i = 0; i < Clients; i++) clients.Add(await SseClient.OpenAsync("/v1/events/stream", readKey));
            await Task.Delay(TimeSpan.FromMilliseconds(500)); // the reads woken by the clients joining are done

            // The API's own metric, as an ops dashboard reads it: ingest.live_tail.reads of this instance.
            var meters = ReadSide.Api.Services.GetRequiredService<IMeterFactory>();
            long reads = 0;
            using var listener = new MeterListener();
            listener.InstrumentPublished = (instrument, l) =>
            {
                if (instrument.Meter.Name == LiveTailReader.MeterName && instrument.Meter.Scope == meters && instrument.Name == "ingest.live_tail.reads")
                    l.EnableMeasurementEvents(instrument);
            };
            listener.SetMeasurementEventCallback<long>((_, value, _, _) => Interlocked.Add(ref reads, value));
            listener.Start();

            var stored = StoredEvent.Track(source, "Shared", "u1", DateTime.UtcNow);
            await StoredEvent.InsertAsync([stored]);
            foreach (var client in clients) Assert.That((await client.NextAsync(TimeSpan.FromSeconds(5))).Id, Is.EqualTo(stored.Id));
            listener.Dispose();

            // One read per notification; a second at most if the poll interval fell in between.
            Assert.That(Interlocked.Read(ref reads), Is.InRange(1, 2), $"database reads for one event tailed by {Clients} clients");
        }
        finally
        {
            foreach (var client in clients) await client.DisposeAsync();
        }
    }
}
