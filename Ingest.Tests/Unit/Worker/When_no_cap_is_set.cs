using Ingest.Worker.Persistence;
using Microsoft.Extensions.Options;

namespace Ingest.Tests.Unit.Worker;

public sealed class When_no_cap_is_set
{
    [Test]
    public void Batches_never_wait()
    {
        var limiter = new WriteRateLimiter(Options.Create(new WorkerOptions()), new ManualClock(ManualClock.At(12, 0)));

        Assert.That(Enumerable.Range(0, 5).Select(_ => limiter.Reserve(10_000)), Is.All.EqualTo(TimeSpan.Zero));
    }
}
