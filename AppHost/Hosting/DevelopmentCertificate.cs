using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace AppHost.Hosting;

/// <summary>
/// The certificate for HTTPS endpoints. Kestrel uses the ASP.NET Core development certificate by
/// itself when one is installed; otherwise the AppHost makes a self-signed one for this run and
/// hands it to the project through Kestrel's default-certificate settings.
/// </summary>
internal sealed class DevelopmentCertificate : IDisposable
{
    // The OID `dotnet dev-certs` marks its certificates with.
    private const string AspNetHttpsOid = "1.3.6.1.4.1.311.84.1.1";

    private DevelopmentCertificate(string? path, string? password, string? directory)
    {
        Path = path;
        Password = password;
        _directory = directory;
    }

    private readonly string? _directory;

    /// <summary>Null when the installed development certificate is used.</summary>
    public string? Path { get; }

    public string? Password { get; }

    public static DevelopmentCertificate Resolve()
    {
        if (HasInstalledDevelopmentCertificate())
        {
            return new DevelopmentCertificate(null, null, null);
        }

        var directory = System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"apphost-cert-{Guid.NewGuid():N}");
        Directory.CreateDirectory(directory);
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }

        var password = Convert.ToHexString(RandomNumberGenerator.GetBytes(16));
        var path = System.IO.Path.Combine(directory, "localhost.pfx");
        using var certificate = CreateSelfSigned();
        File.WriteAllBytes(path, certificate.Export(X509ContentType.Pfx, password));
        return new DevelopmentCertificate(path, password, directory);
    }

    public void Dispose()
    {
        if (_directory is not null && Directory.Exists(_directory))
        {
            Directory.Delete(_directory, recursive: true);
        }
    }

    private static bool HasInstalledDevelopmentCertificate()
    {
        try
        {
            using var store = new X509Store(StoreName.My, StoreLocation.CurrentUser);
            store.Open(OpenFlags.ReadOnly | OpenFlags.OpenExistingOnly);
            var now = DateTimeOffset.Now;
            foreach (var certificate in store.Certificates)
            {
                using (certificate)
                {
                    if (certificate.Extensions.Any(e => e.Oid?.Value == AspNetHttpsOid)
                        && certificate.HasPrivateKey && certificate.NotBefore <= now && certificate.NotAfter > now.AddMinutes(5))
                    {
                        return true;
                    }
                }
            }
        }
        catch (CryptographicException)
        {
            // No store yet (a fresh HOME): no development certificate.
        }

        return false;
    }

    private static X509Certificate2 CreateSelfSigned()
    {
        using var key = RSA.Create(2048);
        var request = new CertificateRequest("CN=localhost", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var names = new SubjectAlternativeNameBuilder();
        names.AddDnsName("localhost");
        names.AddIpAddress(IPAddress.Loopback);
        names.AddIpAddress(IPAddress.IPv6Loopback);
        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.KeyEncipherment, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
        var now = DateTimeOffset.UtcNow;
        return request.CreateSelfSigned(now.AddMinutes(-5), now.AddDays(7));
    }
}
