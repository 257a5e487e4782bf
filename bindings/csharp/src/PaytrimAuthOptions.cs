using System;
using System.Collections.Generic;
using System.Globalization;

namespace Paytrim.Auth
{
    /// <summary>How the client authenticates at the token endpoint.</summary>
    public enum PaytrimClientAuth
    {
        /// <summary><c>client_id</c> and <c>client_secret</c> in the form body (the documented request; the default).</summary>
        ClientSecretPost,
        /// <summary>HTTP Basic authentication (RFC 6749 section 2.3.1).</summary>
        ClientSecretBasic,
    }

    /// <summary>
    /// Client configuration: one property per key of the core's configuration. Unset (null)
    /// properties keep the library's defaults. Values are checked by the library when the
    /// <see cref="PaytrimAuthClient"/> is created (a bad value throws
    /// <see cref="PaytrimAuthException"/> with <see cref="PaytrimAuthErrorCode.InvalidArgument"/>,
    /// naming the key).
    /// </summary>
    public sealed class PaytrimAuthOptions
    {
        private readonly List<KeyValuePair<string, string>> _extra = new List<KeyValuePair<string, string>>();

        /// <summary>Tenant id or domain (<c>tenant</c>; default <c>common</c>).</summary>
        public string Tenant { get; set; }

        /// <summary>Space-separated scopes (<c>scope</c>; default <c>https://graph.microsoft.com/.default</c>).</summary>
        public string Scope { get; set; }

        /// <summary>Authority host (<c>authority_host</c>; default <c>https://login.microsoftonline.com</c>).</summary>
        public string AuthorityHost { get; set; }

        /// <summary>A full token endpoint URL that replaces authority host + tenant (<c>token_url</c>).</summary>
        public string TokenUrl { get; set; }

        /// <summary>Client authentication method (<c>client_auth</c>).</summary>
        public PaytrimClientAuth? ClientAuth { get; set; }

        /// <summary>A PEM file of CA certificates to trust in addition to the system's roots (<c>ca_file</c>;
        /// re-read at each client creation). The system store stays trusted: <c>tls_roots</c>, through
        /// <see cref="Set"/>, chooses which roots besides this file are used.</summary>
        public string CaFile { get; set; }

        /// <summary>TCP connect timeout (<c>connect_timeout_ms</c>).</summary>
        public TimeSpan? ConnectTimeout { get; set; }

        /// <summary>Timeout of one HTTP attempt (<c>timeout_ms</c>).</summary>
        public TimeSpan? Timeout { get; set; }

        /// <summary>Time budget of a whole fetch, retries included (<c>total_timeout_ms</c>).</summary>
        public TimeSpan? TotalTimeout { get; set; }

        /// <summary>Attempts per fetch, 1..10 (<c>max_attempts</c>).</summary>
        public int? MaxAttempts { get; set; }

        /// <summary>Refresh this long before expiry (<c>refresh_margin_s</c>, whole seconds).</summary>
        public TimeSpan? RefreshMargin { get; set; }

        /// <summary>Proxy URL, or <c>none</c> to ignore proxy environment variables (<c>proxy</c>).</summary>
        public string Proxy { get; set; }

        /// <summary>Managed identity: the IMDS base URL (<c>imds_endpoint</c>; default <c>IMDS_ENDPOINT</c>, else <c>http://169.254.169.254</c>).</summary>
        public string ImdsEndpoint { get; set; }

        /// <summary>Managed identity: the App Service endpoint URL (<c>identity_endpoint</c>; default <c>IDENTITY_ENDPOINT</c>).</summary>
        public string IdentityEndpoint { get; set; }

        /// <summary>Managed identity: the App Service secret header value (<c>identity_header</c>; default <c>IDENTITY_HEADER</c>).</summary>
        public string IdentityHeader { get; set; }

        /// <summary>On-host cache tier (<c>cache_dir</c>): processes of this user on this host share tokens,
        /// and one fetch, through sealed files in this absolute directory (created 0700; refused at client
        /// creation when another user owns it or others can write it). Default: <c>PAYTRIM_CACHE_DIR</c>, else off.</summary>
        public string CacheDir { get; set; }

        /// <summary>Fleet cache tier (<c>redis_url</c>): <c>redis://[user:password@]host:port[/db]</c> or
        /// <c>rediss://...</c>. Default: <c>PAYTRIM_REDIS_URL</c>, else off.</summary>
        public string RedisUrl { get; set; }

        /// <summary>Prefix of the Redis keys (<c>redis_key_prefix</c>; default <c>paytrim-auth:</c>).</summary>
        public string RedisKeyPrefix { get; set; }

        /// <summary>Most time Redis may add to one fetch (<c>redis_timeout_ms</c>; default 500 ms).</summary>
        public TimeSpan? RedisTimeout { get; set; }

        /// <summary>PEM file of CA certificates trusted for <c>rediss://</c> (<c>redis_ca_file</c>).</summary>
        public string RedisCaFile { get; set; }

        /// <summary>
        /// Sets any configuration key by its C ABI name (escape hatch for keys newer than this
        /// wrapper). Applied after the properties, in call order. Returns this object.
        /// </summary>
        public PaytrimAuthOptions Set(string key, string value)
        {
            if (key == null) throw new ArgumentNullException("key");
            _extra.Add(new KeyValuePair<string, string>(key, value));
            return this;
        }

        /// <summary>The (key, value) pairs to hand to <c>paytrim_auth_config_set</c>, in order.</summary>
        internal IEnumerable<KeyValuePair<string, string>> ToPairs()
        {
            var list = new List<KeyValuePair<string, string>>();
            Add(list, "tenant", Tenant);
            Add(list, "scope", Scope);
            Add(list, "authority_host", AuthorityHost);
            Add(list, "token_url", TokenUrl);
            if (ClientAuth.HasValue)
                Add(list, "client_auth", ClientAuth.Value == PaytrimClientAuth.ClientSecretBasic ? "client_secret_basic" : "client_secret_post");
            Add(list, "ca_file", CaFile);
            AddMs(list, "connect_timeout_ms", ConnectTimeout);
            AddMs(list, "timeout_ms", Timeout);
            AddMs(list, "total_timeout_ms", TotalTimeout);
            if (MaxAttempts.HasValue) Add(list, "max_attempts", MaxAttempts.Value.ToString(CultureInfo.InvariantCulture));
            if (RefreshMargin.HasValue)
                Add(list, "refresh_margin_s", ((long)Math.Round(RefreshMargin.Value.TotalSeconds)).ToString(CultureInfo.InvariantCulture));
            Add(list, "proxy", Proxy);
            Add(list, "imds_endpoint", ImdsEndpoint);
            Add(list, "identity_endpoint", IdentityEndpoint);
            Add(list, "identity_header", IdentityHeader);
            Add(list, "cache_dir", CacheDir);
            Add(list, "redis_url", RedisUrl);
            Add(list, "redis_key_prefix", RedisKeyPrefix);
            AddMs(list, "redis_timeout_ms", RedisTimeout);
            Add(list, "redis_ca_file", RedisCaFile);
            list.AddRange(_extra);
            return list;
        }

        private static void Add(List<KeyValuePair<string, string>> list, string key, string value)
        {
            if (value != null) list.Add(new KeyValuePair<string, string>(key, value));
        }

        private static void AddMs(List<KeyValuePair<string, string>> list, string key, TimeSpan? value)
        {
            if (value.HasValue)
                list.Add(new KeyValuePair<string, string>(key, ((long)value.Value.TotalMilliseconds).ToString(CultureInfo.InvariantCulture)));
        }
    }
}
