namespace Ingest.Tests.Integration.Fuzz;

public static class Verdicts
{
    public static Verdict Worst(this Verdict a, Verdict b) => a > b ? a : b;

    public static Verdict Worst(this IEnumerable<Verdict> verdicts) => verdicts.Aggregate(Verdict.Accept, Worst);
}
