using StressTests.Cost;

namespace StressTests.Unit;

public sealed class When_the_cost_of_a_window_is_worked_out
{
    static readonly string[] Pipeline = [ProcessCpu.Api, ProcessCpu.Worker, ProcessCpu.RabbitMq, ProcessCpu.Postgres];

    static ScenarioCost Cost(long events, double? postgres = 0.5, double? ceiling = 20, double? floor = 16) => new(events, "events accepted",
        new Dictionary<string, double?>
        {
            [ProcessCpu.Api] = 1.0, [ProcessCpu.Worker] = 0.25, [ProcessCpu.RabbitMq] = 0.25, [ProcessCpu.Postgres] = postgres, [ProcessCpu.LoadGenerator] = 2.0,
        }, Pipeline, new Batching(Transactions: 10, BrokerMessages: 40, Events: 4000), ceiling, Goal: 2, FloorMicrosPerEvent: floor);

    [Test]
    public void Each_process_costs_its_seconds_over_the_events()
    {
        var cost = Cost(events: 50_000);

        Assert.That(cost.MicrosPerEvent(ProcessCpu.Api), Is.EqualTo(20).Within(1e-9));
        Assert.That(cost.MicrosPerEvent(ProcessCpu.Postgres), Is.EqualTo(10).Within(1e-9));
        Assert.That(cost.MicrosPerEvent(ProcessCpu.LoadGenerator), Is.EqualTo(40).Within(1e-9));
    }

    [Test]
    public void The_pipeline_is_its_four_processes_and_its_multiples_are_over_the_floor_and_the_request()
    {
        var cost = Cost(events: 50_000);

        Assert.That(cost.ServerMicrosPerEvent, Is.EqualTo(40).Within(1e-9), "20 + 5 + 5 + 10, the load generator left out");
        Assert.That(cost.FloorMultiple, Is.EqualTo(2.5).Within(1e-9));
        Assert.That(Reports.CostTable.FloorMultiple(cost), Is.EqualTo("2.50× (goal ≤2×)"));
        Assert.That(cost.CeilingMultiple, Is.EqualTo(2).Within(1e-9));
        Assert.That(Reports.CostTable.Multiple(cost), Is.EqualTo("2.00×"));
    }

    [Test]
    public void A_process_not_metered_leaves_no_total_and_no_multiple()
    {
        var cost = Cost(events: 50_000, postgres: null);

        Assert.That(cost.MicrosPerEvent(ProcessCpu.Postgres), Is.Null);
        Assert.That(cost.ServerMicrosPerEvent, Is.Null);
        Assert.That(cost.CeilingMultiple, Is.Null);
        Assert.That(cost.FloorMultiple, Is.Null);
        Assert.That(Reports.CostTable.Multiple(cost), Is.EqualTo("–"));
        Assert.That(Reports.CostTable.FloorMultiple(cost), Is.EqualTo("–"));
    }

    [Test]
    public void No_events_and_no_ceiling_give_no_figures()
    {
        Assert.That(Cost(events: 0).ServerMicrosPerEvent, Is.Null);
        Assert.That(Cost(events: 50_000, ceiling: null).CeilingMultiple, Is.Null);
        Assert.That(Cost(events: 50_000, floor: null).FloorMultiple, Is.Null);
    }

    [Test]
    public void The_worker_and_postgres_cost_their_seconds_over_the_events_stored_in_the_window()
    {
        var cost = Cost(events: 50_000) with { PerStoredEvent = [ProcessCpu.Worker, ProcessCpu.Postgres] };

        Assert.That(cost.MicrosPerEvent(ProcessCpu.Worker), Is.EqualTo(62.5).Within(1e-9), "0.25 s over the 4,000 stored");
        Assert.That(cost.MicrosPerEvent(ProcessCpu.Api), Is.EqualTo(20).Within(1e-9), "still over the 50,000 accepted");
        Assert.That((cost with { Batching = new Batching(0, 0, 0) }).MicrosPerEvent(ProcessCpu.Worker), Is.EqualTo(5).Within(1e-9),
            "nothing stored: over the accepted events");
    }

    [Test]
    public void What_the_machine_spent_beyond_the_metered_processes_is_others()
    {
        var cost = Cost(events: 50_000);
        var withMachine = cost with { CpuSeconds = new Dictionary<string, double?>(cost.CpuSeconds) { [ProcessCpu.Machine] = 5.0 } };

        Assert.That(withMachine.OthersMicrosPerEvent, Is.EqualTo(20).Within(1e-9), "5 s less the 4 s metered, over 50,000 events");
        Assert.That(cost.OthersMicrosPerEvent, Is.Null, "the machine not sampled");
    }

    [Test]
    public void Batching_is_events_per_message_and_messages_per_transaction()
    {
        var batching = new Batching(Transactions: 10, BrokerMessages: 40, Events: 4000);

        Assert.That(batching.EventsPerMessage, Is.EqualTo(100));
        Assert.That(batching.MessagesPerTransaction, Is.EqualTo(4));
        Assert.That(batching.EventsPerTransaction, Is.EqualTo(400));
        Assert.That(new Batching(0, 0, 0).EventsPerMessage, Is.Null);
        Assert.That(new Batching(0, 0, 0).MessagesPerTransaction, Is.Null);
    }

    [Test]
    public void A_process_restarted_in_the_window_has_no_seconds()
    {
        var start = new CpuSample(DateTime.UtcNow, new Dictionary<string, long> { [ProcessCpu.Postgres] = 500, [ProcessCpu.Api] = 100 });
        var end = new CpuSample(DateTime.UtcNow, new Dictionary<string, long> { [ProcessCpu.Postgres] = -1, [ProcessCpu.Api] = 100 + ProcStat.TicksPerSecond });

        var window = new CpuWindow(start, end);

        Assert.That(window.Seconds(ProcessCpu.Postgres), Is.Null);
        Assert.That(window.Seconds(ProcessCpu.Api), Is.EqualTo(1));
    }
}
