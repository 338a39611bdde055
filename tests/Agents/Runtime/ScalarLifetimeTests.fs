/// Every Scalar a torch op of Prunerl.Agents takes is held for as long as the op runs (OwnedScalars): no
/// method converts a number to a Scalar that nothing holds, checked on the compiled IL.
module Prunerl.Tests.ScalarLifetimeTests

open System
open System.Collections.Generic
open System.Reflection
open System.Reflection.Emit
open Expecto
open TorchSharp
open Prunerl.Agents.Runtime

/// Opcodes by their first byte, and the two-byte ones (after 0xFE) by their second.
let private opcodes =
    let single = Array.create<OpCode option> 256 None
    let double = Array.create<OpCode option> 256 None
    for field in typeof<OpCodes>.GetFields(BindingFlags.Public ||| BindingFlags.Static) do
        let code = field.GetValue null :?> OpCode
        let value = int (uint16 code.Value)
        if code.Size = 1 then single.[value] <- Some code else double.[value &&& 0xFF] <- Some code
    single, double

let private operandBytes (code: OpCode) (il: byte[]) at =
    match code.OperandType with
    | OperandType.InlineNone -> 0
    | OperandType.ShortInlineBrTarget | OperandType.ShortInlineI | OperandType.ShortInlineVar -> 1
    | OperandType.InlineVar -> 2
    | OperandType.InlineI8 | OperandType.InlineR -> 8
    | OperandType.InlineSwitch -> 4 + 4 * BitConverter.ToInt32(il, at)
    | _ -> 4

let private calling = set [ for c in [ OpCodes.Call; OpCodes.Callvirt; OpCodes.Newobj; OpCodes.Ldftn; OpCodes.Ldvirtftn ] -> c.Value ]

/// The methods a method's body calls (or takes a delegate to).
let private callees (m: MethodBase) : MethodBase list =
    match (try m.GetMethodBody() with _ -> null) with
    | null -> []
    | body ->
        let il = body.GetILAsByteArray()
        let single, double = opcodes
        let typeArguments = if isNull m.DeclaringType then [||] else m.DeclaringType.GetGenericArguments()
        let methodArguments = if m.IsGenericMethod then m.GetGenericArguments() else [||]
        let found = ResizeArray()
        let mutable at = 0
        while at < il.Length do
            let code = if il.[at] = 0xFEuy then (at <- at + 1; double.[int il.[at]]) else single.[int il.[at]]
            at <- at + 1
            match code with
            | None -> at <- il.Length
            | Some code ->
                if calling.Contains code.Value then
                    try found.Add(m.Module.ResolveMethod(BitConverter.ToInt32(il, at), typeArguments, methodArguments)) with _ -> ()
                at <- at + operandBytes code il at
        List.ofSeq found

let private torchSharp = typeof<Scalar>.Assembly

let private converts (m: MethodBase) =
    (m.DeclaringType = typeof<Scalar> && m.Name = "op_Implicit")
    || (m.DeclaringType = typeof<ScalarExtensionMethods> && m.Name = "ToScalar")

/// Whether calling <paramref name="m"/> makes a Scalar: the conversion itself, or a TorchSharp method that
/// converts a number within a few calls (<c>a + b</c> on tensors is <c>a.add(b, 1)</c>, softplus(double, double)).
let private makesScalar =
    let known = Dictionary<MethodBase, bool>()
    let rec within depth (m: MethodBase) =
        if converts m then true
        elif isNull m.DeclaringType || m.DeclaringType.Assembly <> torchSharp || depth = 0 then false
        else
            match known.TryGetValue m with
            | true, answer -> answer
            | _ ->
                known.[m] <- false
                let answer = callees m |> List.exists (within (depth - 1))
                known.[m] <- answer
                answer
    within 4

let private describe (m: MethodBase) =
    let parameters = m.GetParameters() |> Array.map (fun p -> p.ParameterType.Name) |> String.concat ", "
    $"{m.DeclaringType.Name}.{m.Name}({parameters})"

/// "Type.Method -> callee" for every call in the methods that makes a Scalar nothing holds.
let unheldScalars (methods: MethodBase seq) =
    [ for m in methods do
        for callee in callees m do
            if makesScalar callee then $"{m.DeclaringType.FullName}.{m.Name} -> {describe callee}" ]

let private methodsOf (assembly: Assembly) =
    let all = BindingFlags.Public ||| BindingFlags.NonPublic ||| BindingFlags.Instance ||| BindingFlags.Static ||| BindingFlags.DeclaredOnly
    [ for t in assembly.GetTypes() do
        if t <> typeof<OwnedScalars> then
            yield! t.GetMethods all |> Seq.cast<MethodBase>
            yield! t.GetConstructors all |> Seq.cast<MethodBase> ]

/// What the check must find: a sum of tensors (alpha 1) and a product with a number.
let private offender (a: torch.Tensor) (b: torch.Tensor) = (a + b) * 0.5

[<Tests>]
let tests =
    testSequenced <| testList "scalar lifetimes" [
        test "no method of Prunerl.Agents makes a Scalar that nothing holds (outside OwnedScalars)" {
            let offenders = unheldScalars (methodsOf typeof<OwnedScalars>.Assembly)
            Expect.isEmpty offenders "hold every Scalar an op takes in an OwnedScalars (README: Tensor and Scalar lifetimes)"
        }

        test "the check finds a + b on tensors and t * 0.5" {
            let methods =
                Assembly.GetExecutingAssembly().GetTypes()
                |> Seq.collect (fun t -> t.GetMethods(BindingFlags.NonPublic ||| BindingFlags.Public ||| BindingFlags.Static ||| BindingFlags.DeclaredOnly))
                |> Seq.filter (fun m -> m.Name = "offender")
                |> Seq.cast<MethodBase>
            let found = unheldScalars methods
            Expect.exists found (fun f -> f.Contains "op_Addition(Tensor, Tensor)") $"the sum is found: {found}"
            Expect.exists found (fun f -> f.Contains "op_Multiply(Tensor, Double)") $"the product is found: {found}"
        }

        test "OwnedScalars makes the implicit conversion's types and frees them when disposed" {
            let scalars = new OwnedScalars()
            let made = [ scalars.Of 1; scalars.Of 1L; scalars.Of 1.5f; scalars.Of 1.5 ]
            let converted: Scalar list = [ Scalar.op_Implicit 1; Scalar.op_Implicit 1L; Scalar.op_Implicit 1.5f; Scalar.op_Implicit 1.5 ]
            Expect.equal (made |> List.map (fun s -> s.Type)) (converted |> List.map (fun s -> s.Type)) "the conversion's types"
            Expect.equal (made |> List.map (fun s -> s.ToDouble())) [ 1.0; 1.0; 1.5; 1.5 ] "the values"
            for s in converted do s.Dispose()
            scalars.Dispose()
            for s in made do Expect.throwsT<InvalidOperationException> (fun () -> s.Type |> ignore) "freed"
        }

        test "softplus with held Scalars computes exactly what softplus(1, 20) computes" {
            use scalars = new OwnedScalars()
            use x = torch.linspace (-30.0, 30.0, 1001L)
            use expected = x.softplus (1.0, 20.0)
            use actual = SoftplusWithScalars.Of(x, scalars.Of 1.0, scalars.Of 20.0)
            Expect.equal (actual.data<float32>().ToArray()) (expected.data<float32>().ToArray()) "bit for bit, above the threshold too"
        }
    ]
