using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Tests.Shared;

/// <summary>
/// A self-signed TLS server certificate for localhost and 127.0.0.1, made on the spot and written where a server reads
/// it: <c>{name}.pfx</c> (Kestrel:Certificates:Default:Path/Password), <c>{name}.crt</c> and <c>{name}.key</c> (PEM, as
/// nginx takes them). Clients accept it by its SHA-256 (<see cref="Matches"/>), never through a trust store or $HOME.
/// No test framework here: the load tool can link this file too.
/// </summary>
internal static class SelfSignedCertificate
{
    /// <summary>Writes the three files into <paramref name="directory"/> (created if missing) and returns the certificate's SHA-256 in hex.</summary>
    public static string WriteTo(string directory, string name, string password, TimeSpan validFor)
    {
        Directory.CreateDirectory(directory);
        using var key = RSA.Create(2048);
        var request = new CertificateRequest("CN=localhost", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var names = new SubjectAlternativeNameBuilder();
        names.AddDnsName("localhost");
        names.AddIpAddress(IPAddress.Loopback);
        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.KeyEncipherment, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));

        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow + validFor);
        File.WriteAllBytes(Path.Combine(directory, $"{name}.pfx"), certificate.Export(X509ContentType.Pfx, password));
        File.WriteAllText(Path.Combine(directory, $"{name}.crt"), certificate.ExportCertificatePem());
        File.WriteAllText(Path.Combine(directory, $"{name}.key"), key.ExportPkcs8PrivateKeyPem());
        return Convert.ToHexString(SHA256.HashData(certificate.RawData));
    }

    /// <summary>True for exactly the certificate whose SHA-256 is <paramref name="sha256"/> (hex, any case).</summary>
    public static bool Matches(X509Certificate? certificate, string sha256) =>
        certificate is not null && string.Equals(Convert.ToHexString(SHA256.HashData(certificate.GetRawCertData())), sha256, StringComparison.OrdinalIgnoreCase);
}
