using System.Collections;
using System.Reflection;
using System.Text.RegularExpressions;

namespace Ingest.Tests.Unit.Docs;

/// <summary>
/// docs/configuration.md is the one list of settings: every settable property of every options class (a class named
/// …Options with a <c>public const string Section</c>, in any Ingest.* assembly) has a table row there whose first cell
/// is its full key, <c>Section:Property</c>. The classes are found by scanning assemblies rather than named, so a class
/// moved to another namespace or project, or a new one, is checked without touching this test.
/// </summary>
public sealed partial class When_the_configuration_reference_is_read
{
    /// <summary>Fewer sections than this means the scan found too little (an assembly not loaded), not that the doc is complete.</summary>
    const int ExpectedSectionsAtLeast = 9;

    [Test]
    public void Every_options_property_is_documented_with_its_full_key()
    {
        var documented = DocumentedKeys(File.ReadAllText(Path.Combine(RepoRoot(), "docs", "configuration.md")));
        var options = OptionsClasses().ToList();

        Assert.That(options.Select(o => o.Section).Distinct().Count(), Is.GreaterThanOrEqualTo(ExpectedSectionsAtLeast),
            $"options classes found: {string.Join(", ", options.Select(o => o.Type.FullName))}");
        var missing = options.SelectMany(o => ExpectedKeys(o.Type, o.Section))
            .Where(key => !IsDocumented(key, documented))
            .Select(key => key.Path)
            .ToList();
        Assert.That(missing, Is.Empty, "settings missing from docs/configuration.md (a table row whose first cell is the full key)");
    }

    [Test]
    public void The_scan_finds_the_settings_of_both_hosts()
    {
        var keys = OptionsClasses().SelectMany(o => ExpectedKeys(o.Type, o.Section)).Select(k => k.Path).ToList();
        Assert.That(keys, Is.SupersetOf(new[] { "Ingest:Worker:MessageLimit", "Ingest:Publish:Window", "Ingest:Broker:Host", "Ingest:Retention" }));
    }

    [Test]
    public void The_readme_links_to_it_and_stays_under_200_lines()
    {
        var readme = File.ReadAllLines(Path.Combine(RepoRoot(), "README.md"));
        Assert.That(readme, Has.Length.LessThan(200), "README.md: what it is, the commands, the architecture and links; the rest lives in docs/");
        Assert.That(readme, Has.Some.Contains("(docs/configuration.md)"));
    }

    /// <summary>A key, and whether it names a collection (a list or a dictionary) whose items are set under it.</summary>
    sealed record Key(string Path, bool IsCollection);

    static bool IsDocumented(Key key, HashSet<string> documented) =>
        documented.Contains(key.Path)
        // A list or dictionary is documented by its own key, or by a row for its items: Ingest:RateLimit:Sources:<source>.
        || key.IsCollection && documented.Any(d => d.StartsWith(key.Path + ":", StringComparison.Ordinal));

    /// <summary>
    /// The public instance properties with a public setter, as configuration binding sees them. A property whose key is
    /// not under the section says so with a <c>public const string {Property}Key</c> beside <c>Section</c>
    /// (PartitionOptions.Retention is Ingest:Retention). A nested options object (a class other than a string or a
    /// collection) is recursed into one level, its properties documented as Section:Property:Inner; lists and
    /// dictionaries of plain values are accepted as documented by their parent key.
    /// </summary>
    static IEnumerable<Key> ExpectedKeys(Type type, string section, int depth = 0)
    {
        foreach (var property in type.GetProperties(BindingFlags.Public | BindingFlags.Instance))
        {
            if (property.SetMethod is not { IsPublic: true } || property.GetIndexParameters().Length > 0) continue;
            var own = type.GetField(property.Name + "Key", BindingFlags.Public | BindingFlags.Static);
            var path = own is { IsLiteral: true } && own.GetRawConstantValue() is string fullKey ? fullKey : $"{section}:{property.Name}";
            var propertyType = Nullable.GetUnderlyingType(property.PropertyType) ?? property.PropertyType;
            var isCollection = propertyType != typeof(string) && typeof(IEnumerable).IsAssignableFrom(propertyType);
            if (depth == 0 && propertyType.IsClass && propertyType != typeof(string) && !isCollection)
                foreach (var inner in ExpectedKeys(propertyType, path, depth + 1))
                    yield return inner;
            else
                yield return new Key(path, isCollection);
        }
    }

    static IEnumerable<(Type Type, string Section)> OptionsClasses() =>
        IngestAssemblies()
            .SelectMany(LoadableTypes)
            .Where(t => t is { IsClass: true } && t.Name.EndsWith("Options", StringComparison.Ordinal))
            .Select(t => (Type: t, Field: t.GetField("Section", BindingFlags.Public | BindingFlags.Static)))
            .Where(t => t.Field is { IsLiteral: true, FieldType: var f } && f == typeof(string))
            .Select(t => (t.Type, (string)t.Field!.GetRawConstantValue()!))
            .DistinctBy(t => t.Type);

    /// <summary>
    /// Every Ingest.* assembly this test can reach: those referenced by the test assembly (Ingest.Api, Ingest.Worker,
    /// Ingest.Database) and, one level further, theirs (Ingest.ServiceDefaults, Ingest.Contracts, and any project the
    /// code moves into), plus any already loaded.
    /// </summary>
    static List<Assembly> IngestAssemblies()
    {
        static bool IsIngest(AssemblyName name) => name.Name?.StartsWith("Ingest.", StringComparison.Ordinal) == true;
        var found = AppDomain.CurrentDomain.GetAssemblies().Where(a => IsIngest(a.GetName())).ToDictionary(a => a.GetName().Name!);
        var pending = new Queue<Assembly>([typeof(When_the_configuration_reference_is_read).Assembly, .. found.Values]);
        while (pending.TryDequeue(out var assembly))
            foreach (var reference in assembly.GetReferencedAssemblies().Where(IsIngest))
                if (!found.ContainsKey(reference.Name!))
                {
                    var loaded = Assembly.Load(reference);
                    found[reference.Name!] = loaded;
                    pending.Enqueue(loaded);
                }
        found.Remove(typeof(When_the_configuration_reference_is_read).Assembly.GetName().Name!);
        return [.. found.Values];
    }

    static IEnumerable<Type> LoadableTypes(Assembly assembly)
    {
        try { return assembly.GetTypes(); }
        catch (ReflectionTypeLoadException e) { return e.Types.OfType<Type>(); }
    }

    /// <summary>The first cell of every table row, backticks removed: `| `Ingest:Worker:MessageLimit` | `50` | … |`.</summary>
    static HashSet<string> DocumentedKeys(string markdown) =>
        FirstCell().Matches(markdown).Select(m => m.Groups[1].Value.Replace("`", "", StringComparison.Ordinal).Trim()).ToHashSet();

    [GeneratedRegex(@"^\|([^|\n]+)\|", RegexOptions.Multiline)]
    private static partial Regex FirstCell();

    internal static string RepoRoot()
    {
        for (var dir = new DirectoryInfo(TestContext.CurrentContext.TestDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Analytics.sln")))
                return dir.FullName;
        throw new DirectoryNotFoundException($"No folder above {TestContext.CurrentContext.TestDirectory} holds Analytics.sln.");
    }
}
