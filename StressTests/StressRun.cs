using StressTests.Reports;

namespace StressTests;

/// <summary>Says where the run's reports are, once every test of the assembly has run.</summary>
[SetUpFixture]
public sealed class StressRun
{
    [OneTimeTearDown]
    public void PointToReports()
    {
        if (Directory.Exists(RunReport.Directory))
            TestContext.Progress.WriteLine($"stress reports: {RunReport.Directory}/report.html, report.md, summary.md");
    }
}
