import org.sunflow.SunflowAPI;
import org.sunflow.core.display.FileDisplay;

// Renders a Sunflow .sc scene to a PNG with N threads (Debian's SunflowGUI cannot load .sc files).
public class Render {
  public static void main(String[] a) {
    SunflowAPI api = new SunflowAPI();
    if (!new org.sunflow.core.parser.SCParser().parse(a[0], api)) { System.err.println("cannot parse " + a[0]); System.exit(1); }
    api.parameter("threads", Integer.parseInt(a.length > 2 ? a[2] : "1"));
    api.options(SunflowAPI.DEFAULT_OPTIONS);
    api.build();
    api.render(SunflowAPI.DEFAULT_OPTIONS, new FileDisplay(a[1]));
  }
}
