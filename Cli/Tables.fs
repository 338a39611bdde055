/// Tables as CSV files and markdown text.
module Prunerl.Cli.Tables

open System
open System.Globalization
open System.Text
open Prunerl.Experiments.Metrics

/// A number in full (shortest round-trip form), as CSV files hold them.
let number (x: float) = x.ToString("R", CultureInfo.InvariantCulture)

/// A number to three decimals, as tables show them.
let short (x: float) = x.ToString("F3", CultureInfo.InvariantCulture)

/// An interval as tables show it: "0.512 [0.401, 0.623]".
let interval (i: Interval) = sprintf "%s [%s, %s]" (short i.Estimate) (short i.Lower) (short i.Upper)

/// A CSV cell: quoted (RFC 4180) when it holds a comma, a quote or a line end.
let private cell (text: string) =
    if text.IndexOfAny([| ','; '"'; '\n'; '\r' |]) >= 0 then "\"" + text.Replace("\"", "\"\"") + "\"" else text

/// A CSV file: the header and the rows, UTF-8, one line each.
let csv (header: string list) (rows: string list list) : byte[] =
    let text = StringBuilder()
    for row in header :: rows do
        text.Append(String.Join(",", row |> List.map cell)).Append('\n') |> ignore
    Encoding.UTF8.GetBytes(text.ToString())

/// A markdown table; columns after the first that hold numbers are right-aligned by the caller's choice.
let markdown (header: string list) (alignments: string list) (rows: string list list) : string =
    let line (cells: string list) = "| " + String.Join(" | ", cells |> List.map (fun c -> c.Replace("|", "\\|"))) + " |"
    String.Join("\n", line header :: ("|" + String.Join("|", alignments) + "|") :: (rows |> List.map line))
