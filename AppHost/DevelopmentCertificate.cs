using System.Diagnostics;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace AppHost;

/// <summary>
/// Aspire serves its dashboard and OTLP endpoint over HTTPS with the ASP.NET Core development certificate, and
/// the services export telemetry to it only if .NET trusts that certificate. On a machine with none (a fresh
/// Linux box, CI) this makes and trusts one for the current user, as the Aspire CLI's <c>aspire run</c> does, so
/// <c>dotnet run --project AppHost</c> needs no manual step.
/// </summary>
internal static class DevelopmentCertificate
{
    // The OID `dotnet dev-certs` marks its certificates with.
    private const string AspNetHttpsOid = "1.3.6.1.4.1.311.84.1.1";

    // `dotnet dev-certs https --trust` on Linux: trusted by .NET (the user's root store) and OpenSSL's directory
    // under HOME, not by browsers' NSS databases; it reports that as a partial failure.
    private const int PartiallyTrusted = 4;

    public static void EnsureTrusted()
    {
        if (IsTrusted())
        {
            return;
        }

        Console.WriteLine("No trusted ASP.NET Core development certificate: running `dotnet dev-certs https --trust`.");
        var dotnet = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : "dotnet";
        using var devCerts = Process.Start(new ProcessStartInfo(dotnet, ["dev-certs", "https", "--trust"]) { RedirectStandardOutput = true })!;
        var output = devCerts.StandardOutput.ReadToEnd();
        devCerts.WaitForExit();
        if (devCerts.ExitCode is not (0 or PartiallyTrusted) || !IsTrusted())
        {
            throw new InvalidOperationException(
                $"`dotnet dev-certs https --trust` failed (exit code {devCerts.ExitCode}); the Aspire dashboard and the edge need it:\n{output}");
        }
    }

    private static bool IsTrusted()
    {
        try
        {
            using var store = new X509Store(StoreName.My, StoreLocation.CurrentUser);
            store.Open(OpenFlags.ReadOnly | OpenFlags.OpenExistingOnly);
            var soon = DateTimeOffset.Now.AddMinutes(5);
            using var chain = new X509Chain { ChainPolicy = { RevocationMode = X509RevocationMode.NoCheck } };
            return store.Certificates.Any(c =>
                c.Extensions.Any(e => e.Oid?.Value == AspNetHttpsOid) && c.HasPrivateKey && c.NotAfter > soon && chain.Build(c));
        }
        catch (CryptographicException)
        {
            // No store yet (a fresh HOME): no certificate.
            return false;
        }
    }
}
