using Microsoft.IdentityModel.Tokens;

namespace Metrics.Api.Auth;

/// <summary>
/// Algorithm pinning (RFC 8725 §3.1): the algorithm comes from configuration, never from the token, and each one
/// is only ever used with its own kind of key, so an RSA public key can never act as an HMAC secret.
/// </summary>
public static class AlgorithmPolicy
{
    public static AlgorithmValidator Create(IEnumerable<string> allowed)
    {
        var algorithms = allowed.ToHashSet(StringComparer.Ordinal);
        return (algorithm, key, _, _) => algorithms.Contains(algorithm) && KeyFits(algorithm, key);
    }

    public static bool KeyFits(string algorithm, SecurityKey key)
    {
        ArgumentNullException.ThrowIfNull(algorithm);
        return algorithm switch
        {
            _ when algorithm.StartsWith("HS", StringComparison.Ordinal) => key is SymmetricSecurityKey || key is JsonWebKey { Kty: JsonWebAlgorithmsKeyTypes.Octet },
            _ when algorithm.StartsWith("RS", StringComparison.Ordinal) || algorithm.StartsWith("PS", StringComparison.Ordinal) =>
                key is RsaSecurityKey or X509SecurityKey || key is JsonWebKey { Kty: JsonWebAlgorithmsKeyTypes.RSA },
            _ when algorithm.StartsWith("ES", StringComparison.Ordinal) => key is ECDsaSecurityKey || key is JsonWebKey { Kty: JsonWebAlgorithmsKeyTypes.EllipticCurve },
            _ => false,
        };
    }
}
