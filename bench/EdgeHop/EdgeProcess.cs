using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Reflection;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace EdgeHop;

/// <summary>
/// The real edge, Edge.Proxy.dll, started as its own process with the variables the AppHost gives it, so its
/// memory can be read on its own (/proc/PID/status).
/// </summary>
internal sealed class EdgeProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly string _certificatePath;

    private readonly List<Uri> _listening = [];
    private readonly TaskCompletionSource _started = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private EdgeProcess(Process process, string certificatePath)
    {
        _process = process;
        _certificatePath = certificatePath;
    }

    public Uri HttpUrl { get; private set; } = null!;

    public Uri H2cUrl { get; private set; } = null!;

    public Uri HttpsUrl { get; private set; } = null!;

    public static string CertificateThumbprint { get; private set; } = string.Empty;

    public static async Task<EdgeProcess> StartAsync(Emitter emitter)
    {
        var assembly = typeof(EdgeProcess).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
            .Single(a => a.Key == "EdgeProxyAssembly").Value!;
        assembly = Path.GetFullPath(assembly);
        if (!File.Exists(assembly))
        {
            throw new FileNotFoundException("Build Edge.Proxy first (it is a project reference of this benchmark).", assembly);
        }

        const string Password = "edge-hop";
        var certificatePath = CreateCertificate(Password);

        var start = new ProcessStartInfo("dotnet", [assembly])
        {
            WorkingDirectory = Path.GetDirectoryName(assembly)!,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        var environment = start.Environment;
        environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        // OS-chosen ports; the edge says which in its "Now listening on" lines.
        environment["Kestrel__Endpoints__http__Url"] = "http://127.0.0.1:0";
        environment["Kestrel__Endpoints__h2c__Url"] = "http://127.0.0.1:0";
        environment["Kestrel__Endpoints__https__Url"] = "https://127.0.0.1:0";
        environment["Kestrel__Endpoints__https__Protocols"] = "Http1AndHttp2";
        environment["Kestrel__Certificates__Default__Path"] = certificatePath;
        environment["Kestrel__Certificates__Default__Password"] = Password;
        environment["services__metrics-api__h2c__0"] = emitter.Http2Url.ToString();
        environment["services__dashboard-web__http__0"] = emitter.Http1Url.ToString();
        environment["Logging__LogLevel__Default"] = "Warning";
        environment["Logging__LogLevel__Microsoft.Hosting.Lifetime"] = "Information";
        environment["Logging__Console__FormatterName"] = "simple";
        environment["Logging__Console__FormatterOptions__SingleLine"] = "true";
        environment["OTEL_EXPORTER_OTLP_ENDPOINT"] = null;

        var process = Process.Start(start)!;
        var edge = new EdgeProcess(process, certificatePath);
        process.OutputDataReceived += (_, e) => edge.OnOutput(e.Data);
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) Console.Error.WriteLine("edge: " + e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        try
        {
            await edge.WaitUntilReadyAsync();
        }
        catch
        {
            await edge.DisposeAsync();
            throw;
        }

        return edge;
    }

    /// <summary>Resident memory of the edge process, from /proc (Linux).</summary>
    public long ResidentBytes()
    {
        foreach (var line in File.ReadLines($"/proc/{_process.Id}/status"))
        {
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
            {
                var kib = long.Parse(line["VmRSS:".Length..].Trim().Split(' ')[0], CultureInfo.InvariantCulture);
                return kib * 1024;
            }
        }

        return 0;
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(10));
        }

        _process.Dispose();
        File.Delete(_certificatePath);
    }

    private void OnOutput(string? line)
    {
        const string Listening = "Now listening on: ";
        if (line is null)
        {
            return;
        }

        var at = line.IndexOf(Listening, StringComparison.Ordinal);
        if (at >= 0)
        {
            lock (_listening)
            {
                _listening.Add(new Uri(line[(at + Listening.Length)..].Trim()));
            }
        }
        else if (line.Contains("Application started", StringComparison.Ordinal))
        {
            _started.TrySetResult();
        }
    }

    /// <summary>
    /// Waits for the edge's start-up lines, then tells the two cleartext endpoints apart by asking over HTTP/1.1,
    /// which the HTTP/2-only (h2c) endpoint refuses.
    /// </summary>
    private async Task WaitUntilReadyAsync()
    {
        var exited = _process.WaitForExitAsync();
        if (await Task.WhenAny(_started.Task, exited, Task.Delay(TimeSpan.FromSeconds(60))) != _started.Task)
        {
            throw new InvalidOperationException(_process.HasExited ? $"The edge exited with code {_process.ExitCode}." : "The edge did not start within 60 s.");
        }

        List<Uri> addresses;
        lock (_listening)
        {
            addresses = [.. _listening];
        }

        HttpsUrl = addresses.Single(a => a.Scheme == Uri.UriSchemeHttps);
        using var client = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        foreach (var address in addresses.Where(a => a.Scheme == Uri.UriSchemeHttp))
        {
            using var response = await client.GetAsync(new Uri(address, "/alive"));
            if (response.IsSuccessStatusCode)
            {
                HttpUrl = address;
            }
            else
            {
                H2cUrl = address;
            }
        }

        if (HttpUrl is null || H2cUrl is null)
        {
            throw new InvalidOperationException("Could not tell the edge's endpoints apart: " + string.Join(", ", addresses));
        }
    }

    private static string CreateCertificate(string password)
    {
        using var key = RSA.Create(2048);
        var request = new CertificateRequest("CN=localhost", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var names = new SubjectAlternativeNameBuilder();
        names.AddDnsName("localhost");
        names.AddIpAddress(IPAddress.Loopback);
        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1));
        CertificateThumbprint = certificate.Thumbprint;
        var path = Path.Combine(Path.GetTempPath(), $"edge-hop-{Environment.ProcessId}.pfx");
        File.WriteAllBytes(path, certificate.Export(X509ContentType.Pfx, password));
        return path;
    }
}
