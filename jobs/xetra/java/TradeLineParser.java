package datalake.jobs.xetra;

import java.time.LocalDate;
import java.time.format.DateTimeParseException;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.api.java.UDF2;

/**
 * One line of a Xetra PDS hour file, taken only when it is certainly a good trade row: a Spark
 * UDF of (line, file path) for jobs/xetra (see jobs.xetra.transform.trade_lines).
 *
 * <p>The job's rules are Spark's CSV reader (quote and escape {@code "}) and the field checks of
 * {@code jobs.xetra.transform.parse_trades}. This class takes a strict subset of the lines those
 * rules call good, and gives for them exactly the values they give; every other line is {@link
 * #OTHER}, and the job reads that line's date again with Spark's CSV reader and those rules. A
 * line is taken when:
 *
 * <ul>
 *   <li>it is printable ASCII (0x20-0x7E) and splits into exactly 14 fields, each either
 *       {@code "…"} with no {@code "} inside or bare with no {@code "} and no comma;
 *   <li>ISIN is not empty and neither starts nor ends with a space;
 *   <li>Currency is three letters A-Z; Date is the file name's date (yyyy-MM-dd, a real day);
 *       Time is HH:MM, 00:00-23:59;
 *   <li>the four prices are digits with at most one {@code .} (at least one digit; no sign, no
 *       exponent), each below 1e12, and MinPrice is not above MaxPrice;
 *   <li>TradedVolume and NumberOfTrades are 1-18 digits.
 * </ul>
 *
 * <p>The line that is exactly the header is {@link #HEADER} (Spark's reader drops it too).
 */
public final class TradeLineParser implements UDF2<String, String, Row> {
  private static final long serialVersionUID = 1L;

  /** A good trade: every field set. */
  public static final int TRADE = 0;
  /** The header line. */
  public static final int HEADER = 1;
  /** Anything else: the line's date is read again with Spark's CSV reader. */
  public static final int OTHER = 2;

  private static final String HEADER_LINE =
      "ISIN,Mnemonic,SecurityDesc,SecurityType,Currency,SecurityID,Date,Time,"
          + "StartPrice,MaxPrice,MinPrice,EndPrice,TradedVolume,NumberOfTrades";
  private static final int FIELDS = 14;
  private static final int ISIN = 0;
  private static final int CURRENCY = 4;
  private static final int DATE = 6;
  private static final int TIME = 7;
  private static final int FIRST_PRICE = 8; // StartPrice, MaxPrice, MinPrice, EndPrice
  private static final int FIRST_COUNT = 12; // TradedVolume, NumberOfTrades
  private static final double PRICE_LIMIT = 1e12;

  // the file of the previous line (its rows come in file order): its name's date, parsed once
  private transient String file;
  private transient String fileDay;
  private transient LocalDate fileDate;

  @Override
  public Row call(String line, String path) {
    if (line == null || path == null) {
      return other(null);
    }
    if (!path.equals(file)) {
      readFileName(path);
    }
    if (line.equals(HEADER_LINE)) {
      return RowFactory.create(HEADER, fileDate, null, null, null, null, null, null, null, null,
          null);
    }
    int[] bounds = fields(line);
    if (bounds == null || fileDate == null) {
      return other(fileDate);
    }
    int isinStart = bounds[2 * ISIN];
    int isinEnd = bounds[2 * ISIN + 1];
    if (isinEnd <= isinStart || line.charAt(isinStart) == ' ' || line.charAt(isinEnd - 1) == ' ') {
      return other(fileDate);
    }
    int currency = currencyNumber(line, bounds[2 * CURRENCY], bounds[2 * CURRENCY + 1]);
    int dateStart = bounds[2 * DATE];
    boolean dateOk = bounds[2 * DATE + 1] - dateStart == 10
        && line.regionMatches(dateStart, fileDay, 0, 10);
    int minute = minuteOfDay(line, bounds[2 * TIME], bounds[2 * TIME + 1]);
    if (currency < 0 || !dateOk || minute < 0) {
      return other(fileDate);
    }
    double[] prices = new double[4];
    for (int index = 0; index < 4; index++) {
      int start = bounds[2 * (FIRST_PRICE + index)];
      int end = bounds[2 * (FIRST_PRICE + index) + 1];
      if (!isPlainDecimal(line, start, end)) {
        return other(fileDate);
      }
      prices[index] = Double.parseDouble(line.substring(start, end));
      if (prices[index] >= PRICE_LIMIT) {
        return other(fileDate);
      }
    }
    if (prices[2] > prices[1]) { // MinPrice above MaxPrice
      return other(fileDate);
    }
    long[] counts = new long[2];
    for (int index = 0; index < 2; index++) {
      counts[index] = count(line, bounds[2 * (FIRST_COUNT + index)],
          bounds[2 * (FIRST_COUNT + index) + 1]);
      if (counts[index] < 0) {
        return other(fileDate);
      }
    }
    return RowFactory.create(TRADE, fileDate, line.substring(isinStart, isinEnd), currency,
        minute, prices[0], prices[1], prices[2], prices[3], counts[0], counts[1]);
  }

  private static Row other(LocalDate fileDate) {
    return RowFactory.create(OTHER, fileDate, null, null, null, null, null, null, null, null,
        null);
  }

  /** The file name's date (…/yyyy-MM-dd_BINS_XETRHH.csv); null when it is not a real day. */
  private void readFileName(String path) {
    String name = path.substring(path.lastIndexOf('/') + 1);
    file = path;
    fileDay = name.length() >= 10 ? name.substring(0, 10) : "";
    fileDate = null;
    if (fileDay.length() == 10 && digits(fileDay, 0, 4) && fileDay.charAt(4) == '-'
        && digits(fileDay, 5, 7) && fileDay.charAt(7) == '-' && digits(fileDay, 8, 10)) {
      try {
        fileDate = LocalDate.parse(fileDay);
      } catch (DateTimeParseException invalidDay) {
        fileDate = null;
      }
    }
  }

  /**
   * The start and end of each of the 14 fields' values (quotes excluded), or null when the line
   * is not of the simple shape.
   */
  static int[] fields(String line) {
    int length = line.length();
    for (int index = 0; index < length; index++) {
      char c = line.charAt(index);
      if (c < 0x20 || c > 0x7e) {
        return null;
      }
    }
    int[] bounds = new int[2 * FIELDS];
    int position = 0;
    for (int field = 0; field < FIELDS; field++) {
      boolean last = field == FIELDS - 1;
      int start;
      int end;
      if (position < length && line.charAt(position) == '"') {
        start = position + 1;
        end = line.indexOf('"', start);
        if (end < 0) {
          return null;
        }
        position = end + 1;
      } else {
        start = position;
        int comma = line.indexOf(',', start);
        end = last ? length : comma;
        if (end < 0 || (last && comma >= 0) || line.lastIndexOf('"', end - 1) >= start) {
          return null;
        }
        position = end;
      }
      if (last ? position != length : position >= length || line.charAt(position) != ',') {
        return null;
      }
      position++;
      bounds[2 * field] = start;
      bounds[2 * field + 1] = end;
    }
    return bounds;
  }

  private static boolean digits(String text, int start, int end) {
    for (int index = start; index < end; index++) {
      char c = text.charAt(index);
      if (c < '0' || c > '9') {
        return false;
      }
    }
    return true;
  }

  /** Three letters A-Z as ((a * 26) + b) * 26 + c (jobs.xetra.transform.currency_number). */
  static int currencyNumber(String line, int start, int end) {
    if (end - start != 3) {
      return -1;
    }
    int number = 0;
    for (int index = start; index < end; index++) {
      char c = line.charAt(index);
      if (c < 'A' || c > 'Z') {
        return -1;
      }
      number = number * 26 + (c - 'A');
    }
    return number;
  }

  /** HH:MM (00:00-23:59) as minutes since midnight, else -1. */
  static int minuteOfDay(String line, int start, int end) {
    if (end - start != 5 || line.charAt(start + 2) != ':' || !digits(line, start, start + 2)
        || !digits(line, start + 3, end)) {
      return -1;
    }
    int hour = (line.charAt(start) - '0') * 10 + (line.charAt(start + 1) - '0');
    int minute = (line.charAt(start + 3) - '0') * 10 + (line.charAt(start + 4) - '0');
    return hour < 24 && minute < 60 ? hour * 60 + minute : -1;
  }

  /** Digits with at most one '.', at least one digit. */
  static boolean isPlainDecimal(String line, int start, int end) {
    boolean dot = false;
    boolean digit = false;
    for (int index = start; index < end; index++) {
      char c = line.charAt(index);
      if (c == '.' && !dot) {
        dot = true;
      } else if (c >= '0' && c <= '9') {
        digit = true;
      } else {
        return false;
      }
    }
    return digit;
  }

  /** 1-18 digits as a long, else -1. */
  static long count(String line, int start, int end) {
    if (end - start < 1 || end - start > 18 || !digits(line, start, end)) {
      return -1;
    }
    return Long.parseLong(line.substring(start, end));
  }
}
