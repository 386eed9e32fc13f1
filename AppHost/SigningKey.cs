namespace AppHost;

/// <summary>HMAC keys for the services, which take base64 of at least 32 bytes.</summary>
internal static class SigningKey
{
    /// <summary>
    /// 64 letters and digits: valid base64 (a multiple of four characters from its alphabet) of 48 random bytes,
    /// about 381 bits of entropy; generated per run, and by azd at deploy time from the manifest.
    /// </summary>
    public static GenerateParameterDefault Generate() => new() { MinLength = 64, Special = false };
}
