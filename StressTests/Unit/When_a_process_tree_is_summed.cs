using System.Diagnostics;
using StressTests.Cost;

namespace StressTests.Unit;

public sealed class When_a_process_tree_is_summed
{
    static readonly ProcStat[] Processes =
    [
        new(1, 0, 1000, 1000, 0, 0),        // init: not in the tree
        new(100, 1, 10, 20, 30, 40),        // the postmaster: own 30, its exited backends 70
        new(101, 100, 1, 2, 0, 0),          // a live backend
        new(102, 100, 3, 4, 5, 6),          // a live helper that reaped a child of its own
        new(103, 102, 7, 8, 0, 0),          // a grandchild, still live
        new(200, 1, 500, 500, 0, 0),        // another server beside it
    ];

    [Test]
    public void The_root_its_reaped_children_and_every_live_descendant_count_once()
    {
        Assert.That(ProcStat.TreeTicks(100, Processes), Is.EqualTo(100 + 3 + 18 + 15));
    }

    [Test]
    public void A_root_that_is_gone_gives_minus_one()
    {
        Assert.That(ProcStat.TreeTicks(999, Processes), Is.EqualTo(-1));
    }

    [Test]
    public void A_window_over_this_process_sees_the_cpu_it_spent()
    {
        var cpu = new ProcessCpu([ProcessCpu.Self, new MeteredProcess("tree", Environment.ProcessId, WithDescendants: true)]);
        var start = cpu.Sample();
        var clock = Stopwatch.StartNew();
        var spin = 0L;
        while (clock.ElapsedMilliseconds < 300) spin++;
        var window = new CpuWindow(start, cpu.Sample());

        Assert.That(spin, Is.Positive);
        Assert.That(window.Seconds(ProcessCpu.LoadGenerator), Is.GreaterThanOrEqualTo(0.1), "300 ms of spinning on one thread");
        Assert.That(window.Seconds("tree"), Is.GreaterThanOrEqualTo(window.Seconds(ProcessCpu.LoadGenerator)! - 0.02));
        Assert.That(window.Seconds("not metered"), Is.Null);
    }
}
