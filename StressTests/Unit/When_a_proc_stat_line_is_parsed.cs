using StressTests.Cost;

namespace StressTests.Unit;

public sealed class When_a_proc_stat_line_is_parsed
{
    // proc(5): pid (comm) state ppid pgrp session tty_nr tpgid flags minflt cminflt majflt cmajflt utime stime cutime cstime …
    const string Postgres = "32319 (postgres) S 32318 32318 32318 0 -1 4194368 190 0 0 0 12 34 56 78 20 0 1 0 3123456 229449728 1234 18446744073709551615";

    [Test]
    public void Times_and_parent_are_read_from_their_fields()
    {
        var stat = ProcStat.Parse(Postgres);

        Assert.That(stat, Is.EqualTo(new ProcStat(32319, 32318, UserTicks: 12, SystemTicks: 34, ChildUserTicks: 56, ChildSystemTicks: 78)));
        Assert.That(stat.OwnTicks, Is.EqualTo(46));
        Assert.That(stat.OwnAndReapedTicks, Is.EqualTo(180));
    }

    [Test]
    public void Fields_are_counted_from_the_last_parenthesis_of_a_name_with_spaces_and_parentheses()
    {
        var stat = ProcStat.Parse("77 (a) S 1 (b)) R 5 5 5 0 -1 0 0 0 0 0 101 202 303 404 20 0 1 0 1 1 1");

        Assert.That(stat, Is.EqualTo(new ProcStat(77, 5, 101, 202, 303, 404)));
    }

    [Test]
    public void The_machine_is_busy_for_all_but_idle_and_iowait()
    {
        // cpu user nice system idle iowait irq softirq steal guest guest_nice
        Assert.That(ProcStat.ParseMachineBusy("cpu  100 2 30 5000 40 5 6 7 0 0"), Is.EqualTo(100 + 2 + 30 + 5 + 6 + 7));
        Assert.Throws<FormatException>(() => ProcStat.ParseMachineBusy("cpu0 1 2 3"));
    }

    [Test]
    public void Text_that_is_not_a_stat_line_is_refused()
    {
        Assert.Throws<FormatException>(() => ProcStat.Parse("no parentheses here"));
        Assert.Throws<FormatException>(() => ProcStat.Parse("1 (short) S 0 1 2"));
    }
}
