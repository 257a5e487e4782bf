// A Java snippet inside main(), with the variables the READMEs' fragments assume.
import com.paytrim.auth.*;
import java.net.HttpURLConnection;
import java.net.URL;
import java.nio.file.Paths;

public class Snippet {
    interface Signer {
        String signJwt(String clientId, String audience);
    }

    interface Log {
        void info(String format, Object... args);
    }

    public static void main(String[] args) throws Exception {
        String clientId = System.getenv("PAYTRIM_CLIENT_ID");
        String clientSecret = System.getenv("PAYTRIM_CLIENT_SECRET");
        char[] password = "changeit".toCharArray();
        Signer signer = (id, audience) -> "eyJ...";
        Log log = (format, a) -> System.out.println(format);
        HttpURLConnection connection = (HttpURLConnection) new URL("https://api.paytrim.com/").openConnection();
        @snippet
    }
}
