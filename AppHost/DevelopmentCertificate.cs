using System.Diagnostics;
using System.Security.Cryptography.X509Certificates;

namespace AppHost;

/// <summary>
/// The Aspire dashboard and the edge serve HTTPS with the ASP.NET Core development certificate, and the services
/// export telemetry to the dashboard only if .NET trusts it. Where there is none (a fresh Linux box, CI), this makes
/// and trusts one for the current user, as <c>aspire run</c> does: <c>dotnet run --project AppHost</c> needs no manual step.
/// </summary>
internal static class DevelopmentCertificate
{
    // `--trust` on Linux trusts it for .NET and OpenSSL under HOME, not for browsers (NSS), and says so with exit code 4.
    private static readonly int[] Succeeded = [0, 4];

    public static void EnsureTrusted()
    {
        if (IsTrusted())
        {
            return;
        }

        Console.WriteLine("No trusted ASP.NET Core development certificate: running `dotnet dev-certs https --trust`.");
        var dotnet = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet";
        using var devCerts = Process.Start(new ProcessStartInfo(dotnet, ["dev-certs", "https", "--trust"]) { RedirectStandardOutput = true })!;
        var output = devCerts.StandardOutput.ReadToEnd();
        devCerts.WaitForExit();
        if (!Succeeded.Contains(devCerts.ExitCode) || !IsTrusted())
        {
            throw new InvalidOperationException($"`dotnet dev-certs https --trust` failed ({devCerts.ExitCode}):\n{output}");
        }
    }

    private static bool IsTrusted()
    {
        using var store = new X509Store(StoreName.My, StoreLocation.CurrentUser);
        store.Open(OpenFlags.ReadOnly);
        using var chain = new X509Chain { ChainPolicy = { RevocationMode = X509RevocationMode.NoCheck } };
        // The OID `dotnet dev-certs` marks its certificates with.
        return store.Certificates.Any(c => c.Extensions["1.3.6.1.4.1.311.84.1.1"] is not null
            && c.HasPrivateKey && c.NotAfter > DateTime.Now.AddMinutes(5) && chain.Build(c));
    }
}
