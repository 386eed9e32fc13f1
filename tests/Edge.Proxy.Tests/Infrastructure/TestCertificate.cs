using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Edge.Proxy.Tests.Infrastructure;

/// <summary>
/// A self-signed server certificate made for this test run and written to a temporary PFX, the way the AppHost
/// hands one to the edge (Kestrel:Certificates:Default:Path/Password). Nothing is read from or written to $HOME.
/// </summary>
public static class TestCertificate
{
    public const string Password = "edge-tests";

    private static readonly Lazy<(string Path, string Thumbprint)> Created = new(Create);

    public static string PfxPath => Created.Value.Path;

    public static string Thumbprint => Created.Value.Thumbprint;

    /// <summary>Accepts exactly the test certificate, nothing else.</summary>
    public static bool Validate(X509Certificate? certificate) =>
        certificate is not null && string.Equals(certificate.GetCertHashString(), Thumbprint, StringComparison.OrdinalIgnoreCase);

    private static (string, string) Create()
    {
        using var key = RSA.Create(2048);
        var request = new CertificateRequest("CN=localhost", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var names = new SubjectAlternativeNameBuilder();
        names.AddDnsName("localhost");
        names.AddIpAddress(IPAddress.Loopback);
        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.KeyEncipherment, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));

        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1));
        var path = Path.Combine(Path.GetTempPath(), $"edge-tests-{Environment.ProcessId}-{Guid.NewGuid():N}.pfx");
        File.WriteAllBytes(path, certificate.Export(X509ContentType.Pfx, Password));
        AppDomain.CurrentDomain.ProcessExit += (_, _) => File.Delete(path);
        return (path, certificate.Thumbprint);
    }
}
