using System.Globalization;
using System.Text.RegularExpressions;

namespace Deploy.Tests;

/// <summary>
/// Resolves the only run-time expression shape our snapshot values contain: a format() over string
/// literals and the environment's default domain, e.g.
/// <c>[format('http://{0}.internal.{1}', 'metrics-api', reference('/…/managedEnvironments/cae-x', '2026-07-01').defaultDomain)]</c>.
/// </summary>
public static partial class ArmExpression
{
    public const string DefaultDomain = "<environment-default-domain>";

    public static string Resolve(string value)
    {
        if (!value.StartsWith('[') || !value.EndsWith(']'))
        {
            return value;
        }

        var withDomain = DefaultDomainReference().Replace(value, $"'{DefaultDomain}'");
        var format = FormatCall().Match(withDomain);
        Assert.True(format.Success, $"Unsupported expression: {value}");
        var literals = StringLiteral().Matches(format.Groups["args"].Value)
            .Select(literal => (object)literal.Groups["text"].Value.Replace("''", "'", StringComparison.Ordinal))
            .ToArray();
        Assert.True(literals.Length > 0, $"Unsupported expression: {value}");
        return string.Format(CultureInfo.InvariantCulture, (string)literals[0], literals[1..]);
    }

    /// <summary>How <see cref="ResolveWithParameters"/> writes a template parameter's value.</summary>
    public static string Parameter(string name) => $"<parameter:{name}>";

    /// <summary>
    /// <see cref="Resolve"/> for a format() whose arguments may also be integers and template parameters (a secret
    /// composed of an address and a secure parameter); a parameter becomes <see cref="Parameter"/>.
    /// </summary>
    public static string ResolveWithParameters(string value) =>
        Resolve(ParameterReference().Replace(IntegerArgument().Replace(value, "'${number}'"), match => $"'{Parameter(match.Groups["name"].Value)}'"));

    [GeneratedRegex(@"parameters\('(?<name>[^']*)'\)")]
    private static partial Regex ParameterReference();

    [GeneratedRegex(@"(?<=, )(?<number>\d+)(?=[,)])")]
    private static partial Regex IntegerArgument();

    [GeneratedRegex(@"reference\('[^']*/Microsoft\.App/managedEnvironments/[^']*', '[^']*'\)\.defaultDomain")]
    private static partial Regex DefaultDomainReference();

    [GeneratedRegex(@"^\[format\((?<args>(?:'(?:[^']|'')*'(?:, )?)+)\)\]$")]
    private static partial Regex FormatCall();

    [GeneratedRegex(@"'(?<text>(?:[^']|'')*)'")]
    private static partial Regex StringLiteral();
}
