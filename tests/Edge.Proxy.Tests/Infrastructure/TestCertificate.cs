using System.Security.Cryptography.X509Certificates;

namespace Edge.Proxy.Tests.Infrastructure;

/// <summary>
/// The edge's certificate for this test run (<see cref="SelfSignedCertificate"/>), in a temporary folder deleted on
/// exit, handed to the edge the way the AppHost does (Kestrel:Certificates:Default:Path/Password).
/// </summary>
public static class TestCertificate
{
    public const string Password = "edge-tests";

    private static readonly Lazy<(string Directory, string Sha256)> Written = new(() =>
    {
        var directory = Directory.CreateTempSubdirectory("edge-tests-").FullName;
        AppDomain.CurrentDomain.ProcessExit += (_, _) => Directory.Delete(directory, recursive: true);
        return (directory, SelfSignedCertificate.WriteTo(directory, "edge", Password, TimeSpan.FromDays(1)));
    });

    public static string PfxPath => Path.Combine(Written.Value.Directory, "edge.pfx");

    /// <summary>Accepts exactly the test certificate, nothing else.</summary>
    public static bool Validate(X509Certificate? certificate) => SelfSignedCertificate.Matches(certificate, Written.Value.Sha256);
}
