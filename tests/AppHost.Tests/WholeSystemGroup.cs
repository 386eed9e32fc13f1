namespace AppHost.Tests;

/// <summary>
/// Whole-system tests start every service as a real process; run them one at a time so a
/// 2-core machine is not asked to boot several systems at once.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class WholeSystemGroup
{
    public const string Name = "Whole system";
}
