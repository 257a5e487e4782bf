package example;

import com.paytrim.auth.AccessToken;
import com.paytrim.auth.PaytrimAuthClient;

/** Gets a token with the packaged jar; prints where the native library came from. */
public final class Main {
    public static void main(String[] args) {
        try (PaytrimAuthClient client = PaytrimAuthClient.builder(System.getenv("T_ID"), System.getenv("T_SECRET"))
                .tenant("contoso.onmicrosoft.com")
                .scope("api://paytrim/.default")
                .authorityHost(System.getenv("T_AUTHORITY"))
                .caFile(System.getenv("T_CA"))
                .build()) {
            AccessToken token = client.getToken();
            System.out.println("token_length=" + token.getToken().length());
            System.out.println("source=" + PaytrimAuthClient.nativeLibrarySource());
        }
    }
}
