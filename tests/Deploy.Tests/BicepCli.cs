using System.Reflection;
using System.Xml.Linq;

namespace Deploy.Tests;

/// <summary>
/// The Bicep CLI from the NuGet package Azure.Bicep.CommandLine.linux-x64, restored by this project.
/// </summary>
public sealed class BicepCli
{
    private const string PackageId = "Azure.Bicep.CommandLine.linux-x64";
    private static readonly TimeSpan RunTimeout = TimeSpan.FromMinutes(2);

    private BicepCli(string executablePath) => ExecutablePath = executablePath;

    public string ExecutablePath { get; }

    /// <summary>
    /// Finds the binary: $BICEP_PATH if set, else $(BicepPath) from the package's build props (baked in at
    /// build time), else the NuGet package folder ($NUGET_PACKAGES or ~/.nuget/packages) at the version
    /// pinned in Directory.Packages.props.
    /// </summary>
    public static BicepCli Locate(string repoRoot)
    {
        var candidates = new List<string>();
        if (Environment.GetEnvironmentVariable("BICEP_PATH") is { Length: > 0 } fromEnvironment)
        {
            candidates.Add(fromEnvironment);
        }

        if (AssemblyMetadata("BicepPath") is { Length: > 0 } fromBuild)
        {
            candidates.Add(fromBuild);
        }

        var packagesRoot = Environment.GetEnvironmentVariable("NUGET_PACKAGES") is { Length: > 0 } nugetPackages
            ? nugetPackages
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
        candidates.Add(Path.Combine(packagesRoot, PackageId.ToLowerInvariant(), PinnedVersion(repoRoot), "tools", "bicep"));

        foreach (var candidate in candidates)
        {
            var fullPath = Path.GetFullPath(candidate);
            if (File.Exists(fullPath))
            {
                return new BicepCli(fullPath);
            }
        }

        throw new InvalidOperationException(
            $"Bicep CLI not found; restore tests/Deploy.Tests first. Looked at: {string.Join(", ", candidates)}");
    }

    public static string? AssemblyMetadata(string key) =>
        typeof(BicepCli).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
            .FirstOrDefault(attribute => attribute.Key == key)?.Value;

    private static string PinnedVersion(string repoRoot)
    {
        var props = XDocument.Load(Path.Combine(repoRoot, "Directory.Packages.props"));
        return props.Descendants("PackageVersion")
            .Single(element => (string?)element.Attribute("Include") == PackageId)
            .Attribute("Version")!.Value;
    }

    public async Task<BicepResult> RunAsync(string workingDirectory, params string[] arguments)
    {
        var (exitCode, output) = await ChildProcess.RunAsync(ExecutablePath, arguments, workingDirectory, RunTimeout);
        return new BicepResult(arguments, exitCode, output);
    }
}

public sealed record BicepResult(IReadOnlyList<string> Arguments, int ExitCode, string Output)
{
    /// <summary>Compiler and linter diagnostics ("file(line,col) : Warning|Error CODE: message").</summary>
    public IReadOnlyList<string> Diagnostics =>
        Output.Split('\n', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
            .Where(line => line.Contains(" : Warning ", StringComparison.Ordinal)
                || line.Contains(" : Error ", StringComparison.Ordinal))
            .ToArray();

    public override string ToString() => $"bicep {string.Join(' ', Arguments)} (exit {ExitCode}){Environment.NewLine}{Output}";
}
