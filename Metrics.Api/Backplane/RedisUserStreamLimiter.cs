using Metrics.Api.Auth;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace Metrics.Api.Backplane;

/// <summary>
/// Per-user stream limits across replicas. Each user has a sorted set of lease ids scored by expiry (Redis server
/// time, so replicas' clocks do not matter); acquiring drops expired leases, counts and adds in one script, so two
/// replicas never both take the last slot. This replica renews all of its leases together every third of
/// <see cref="StreamLimitOptions.LeaseTtl"/> (<see cref="StreamLeaseRenewalService"/>); a replica that dies stops
/// renewing, and its leases expire.
/// </summary>
/// <remarks>
/// With Redis unreachable a stream is admitted when this replica's own streams for the user are under the limit
/// (dashboards keep working; a user could then hold up to the limit per replica). The lease is written to Redis by the
/// first renewal after Redis is back, so the shared count is true again within a renewal interval.
/// </remarks>
public sealed class RedisUserStreamLimiter : IUserStreamLimiter
{
    public const string KeyPrefix = "metrics-api:streams:";

    /// <summary>Users renewed per round of pipelined scripts: bounds what one renewal has in flight.</summary>
    private const int RenewalBatchSize = 256;

    // KEYS[1] the user's set; ARGV: limit, ttl ms, lease id. 1 = acquired, 0 = at the limit.
    private const string AcquireScript = """
        local time = redis.call('TIME')
        local now = time[1] * 1000 + math.floor(time[2] / 1000)
        redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
        if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[1]) then
          return 0
        end
        redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[3])
        redis.call('PEXPIRE', KEYS[1], ARGV[2])
        return 1
        """;

    // KEYS[1] the user's set; ARGV: ttl ms, lease ids. Re-adds a lease that expired during an outage: its stream is
    // still open, so it counts.
    private const string RenewScript = """
        local time = redis.call('TIME')
        local now = time[1] * 1000 + math.floor(time[2] / 1000)
        local expiry = now + tonumber(ARGV[1])
        for i = 2, #ARGV do
          redis.call('ZADD', KEYS[1], expiry, ARGV[i])
        end
        redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
        redis.call('PEXPIRE', KEYS[1], ARGV[1])
        return #ARGV - 1
        """;

    private readonly IConnectionMultiplexer _redis;
    private readonly RedisOutage _outage;
    private readonly BackplaneMetrics _metrics;
    private readonly ILogger<RedisUserStreamLimiter> _logger;
    private readonly long _ttlMilliseconds;
    private readonly Lock _lock = new();
    private readonly Dictionary<string, HashSet<Lease>> _leases = new(StringComparer.Ordinal);

    public RedisUserStreamLimiter(
        IConnectionMultiplexer redis,
        IOptions<StreamLimitOptions> options,
        RedisOutage outage,
        BackplaneMetrics metrics,
        ILogger<RedisUserStreamLimiter> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        _redis = redis;
        _outage = outage;
        _metrics = metrics;
        _logger = logger;
        MaxStreamsPerUser = options.Value.MaxStreamsPerUser;
        RetryAfter = options.Value.RetryAfter;
        LeaseTtl = options.Value.LeaseTtl;
        _ttlMilliseconds = (long)LeaseTtl.TotalMilliseconds;
    }

    public int MaxStreamsPerUser { get; }

    public TimeSpan RetryAfter { get; }

    public TimeSpan LeaseTtl { get; }

    /// <summary>How often <see cref="RenewAsync"/> runs: a lease survives two missed renewals.</summary>
    public TimeSpan RenewalInterval => LeaseTtl / 3;

    /// <summary>Leases this replica holds now.</summary>
    public int LocalLeaseCount
    {
        get
        {
            lock (_lock)
            {
                return _leases.Values.Sum(static set => set.Count);
            }
        }
    }

    public async ValueTask<IStreamLease?> TryAcquireAsync(string userId, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(userId);
        var lease = new Lease(this, userId, Guid.NewGuid().ToString("N"));
        // No cancellation once sent: a script that ran while its caller gave up would leave a lease behind.
        var acquired = await TryAcquireInRedisAsync(lease);
        lock (_lock)
        {
            if (acquired is null)
            {
                // Redis is unreachable: this replica's own count decides (see remarks).
                if (_leases.TryGetValue(userId, out var local) && local.Count >= MaxStreamsPerUser)
                {
                    return null;
                }

                _metrics.LimitFellBack();
            }
            else if (acquired is false)
            {
                return null;
            }

            Track(lease);
        }

        return lease;
    }

    /// <summary>
    /// Extends every lease this replica holds (one script per user, pipelined in batches), re-adding any that expired
    /// while Redis was away. The renewal service calls it; false when Redis could not be reached.
    /// </summary>
    public async Task<bool> RenewAsync()
    {
        (string UserId, Lease[] Leases)[] snapshot;
        lock (_lock)
        {
            snapshot = [.. _leases.Select(static pair => (pair.Key, pair.Value.ToArray()))];
        }

        if (snapshot.Length == 0)
        {
            return true;
        }

        if (!_redis.IsConnected)
        {
            _outage.Failed("stream lease renewal");
            return false;
        }

        var database = _redis.GetDatabase();
        try
        {
            foreach (var batch in snapshot.Chunk(RenewalBatchSize))
            {
                await Task.WhenAll(batch.Select(user => database.ScriptEvaluateAsync(
                    RenewScript,
                    [Key(user.UserId)],
                    [_ttlMilliseconds, .. user.Leases.Select(static lease => (RedisValue)lease.Id)])));
            }
        }
        catch (Exception exception) when (exception is RedisException or TimeoutException)
        {
            _outage.Failed("stream lease renewal", exception);
            return false;
        }

        _outage.Succeeded();
        // A stream that ended while its renewal was in flight may have been re-added after its release: remove again.
        foreach (var lease in snapshot.SelectMany(static user => user.Leases).Where(static lease => lease.IsReleased))
        {
            RemoveFromRedis(lease);
        }

        if (_logger.IsEnabled(LogLevel.Trace))
        {
            var leaseCount = snapshot.Sum(static user => user.Leases.Length);
            BackplaneLog.LeasesRenewed(_logger, leaseCount, snapshot.Length);
        }

        return true;
    }

    private static RedisKey Key(string userId) => KeyPrefix + userId;

    /// <summary>True acquired, false at the limit, null Redis unreachable.</summary>
    private async Task<bool?> TryAcquireInRedisAsync(Lease lease)
    {
        if (!_redis.IsConnected)
        {
            _outage.Failed("stream limit");
            return null;
        }

        try
        {
            var result = await _redis.GetDatabase().ScriptEvaluateAsync(
                AcquireScript, [Key(lease.UserId)], [MaxStreamsPerUser, _ttlMilliseconds, lease.Id]);
            _outage.Succeeded();
            return (int)result == 1;
        }
        catch (Exception exception) when (exception is RedisException or TimeoutException)
        {
            _outage.Failed("stream limit", exception);
            return null;
        }
    }

    private void Track(Lease lease)
    {
        if (!_leases.TryGetValue(lease.UserId, out var set))
        {
            set = [];
            _leases[lease.UserId] = set;
        }

        set.Add(lease);
    }

    private void Release(Lease lease)
    {
        lock (_lock)
        {
            if (_leases.TryGetValue(lease.UserId, out var set) && set.Remove(lease) && set.Count == 0)
            {
                _leases.Remove(lease.UserId);
            }
        }

        RemoveFromRedis(lease);
    }

    private void RemoveFromRedis(Lease lease)
    {
        try
        {
            // Not awaited: a stream's end never waits on Redis. Lost with Redis down, the lease expires instead.
            _redis.GetDatabase().SortedSetRemove(Key(lease.UserId), lease.Id, CommandFlags.FireAndForget);
        }
        catch (Exception exception) when (exception is RedisException or TimeoutException)
        {
            _outage.Failed("stream lease release", exception);
        }
    }

    private sealed class Lease(RedisUserStreamLimiter owner, string userId, string id) : IStreamLease
    {
        private int _released;

        public string UserId { get; } = userId;

        public string Id { get; } = id;

        public bool IsReleased => Volatile.Read(ref _released) == 1;

        public void Dispose()
        {
            // The flag is set before the removal is sent, which RenewAsync relies on.
            if (Interlocked.Exchange(ref _released, 1) == 0)
            {
                owner.Release(this);
            }
        }
    }
}
