//! Client transaction timers on a virtual clock.

use super::tests_support::{request, response};
use super::*;

const T1: Duration = Duration::from_millis(500);

fn drain(tx: &mut ClientTransaction) -> Vec<TxOutput> {
    std::iter::from_fn(|| tx.poll_output()).collect()
}

/// Advance to each due timer until `until`, returning the times transmissions went out.
fn run_until(
    tx: &mut ClientTransaction,
    start: Instant,
    until: Instant,
) -> (Vec<Duration>, Vec<TxOutput>) {
    let mut sends = Vec::new();
    let mut other = Vec::new();
    while let Some(at) = tx.poll_timeout() {
        if at > until {
            break;
        }
        tx.handle_timeout(at);
        for o in drain(tx) {
            match o {
                TxOutput::Transmit(_) => sends.push(at - start),
                o => other.push(o),
            }
        }
    }
    (sends, other)
}

#[test]
fn timer_a_doubles_and_timer_b_times_out_at_64_t1() {
    let t0 = Instant::now();
    let mut tx = ClientTransaction::new(t0, request(Method::Invite, "z9hG4bKa"), T1);
    assert_eq!(drain(&mut tx).len(), 1, "first send");
    let (sends, other) = run_until(&mut tx, t0, t0 + Duration::from_secs(40));
    let ms: Vec<u128> = sends.iter().map(Duration::as_millis).collect();
    assert_eq!(ms, vec![500, 1500, 3500, 7500, 15500, 31500]);
    assert_eq!(other, vec![TxOutput::TimedOut]);
    assert!(tx.is_terminated());
    assert_eq!(tx.retransmits(), 6);
}

#[test]
fn provisional_stops_timer_a_and_b() {
    let t0 = Instant::now();
    let req = request(Method::Invite, "z9hG4bKa");
    let mut tx = ClientTransaction::new(t0, req.clone(), T1);
    drain(&mut tx);
    tx.handle_input(t0 + T1 / 2, TxInput::Response(response(&req, 180)));
    assert!(
        matches!(drain(&mut tx).as_slice(), [TxOutput::Response(r)] if r.status_code.code() == 180)
    );
    assert_eq!(tx.state(), TxState::Proceeding);
    assert_eq!(tx.poll_timeout(), None, "no timers while ringing");
}

#[test]
fn non_2xx_final_is_acked_in_the_transaction_and_retransmissions_reacked() {
    let t0 = Instant::now();
    let req = request(Method::Invite, "z9hG4bKa");
    let mut tx = ClientTransaction::new(t0, req.clone(), T1);
    drain(&mut tx);
    tx.handle_input(t0, TxInput::Response(response(&req, 486)));
    let out = drain(&mut tx);
    let TxOutput::Transmit(ack) = &out[0] else {
        panic!("ACK first: {out:?}")
    };
    let ack = msg::parse(ack).unwrap();
    assert_eq!(msg::cseq(&ack).unwrap(), (1, Method::Ack));
    assert_eq!(
        msg::branch(&ack).unwrap(),
        "z9hG4bKa",
        "same branch as the INVITE"
    );
    assert_eq!(msg::to_tag(&ack).unwrap().as_deref(), Some("t1"));
    assert!(matches!(&out[1], TxOutput::Response(r) if r.status_code.code() == 486));
    // A retransmitted 486 is absorbed and re-ACKed.
    tx.handle_input(t0 + T1, TxInput::Response(response(&req, 486)));
    assert!(matches!(drain(&mut tx).as_slice(), [TxOutput::Transmit(_)]));
    assert_eq!(tx.poll_timeout(), Some(t0 + TIMER_D), "Timer D");
    tx.handle_timeout(t0 + TIMER_D);
    assert!(tx.is_terminated());
}

#[test]
fn invite_2xx_terminates_without_an_ack_from_the_transaction() {
    let t0 = Instant::now();
    let req = request(Method::Invite, "z9hG4bKa");
    let mut tx = ClientTransaction::new(t0, req.clone(), T1);
    drain(&mut tx);
    tx.handle_input(t0, TxInput::Response(response(&req, 200)));
    assert!(
        matches!(drain(&mut tx).as_slice(), [TxOutput::Response(r)] if r.status_code.code() == 200)
    );
    assert!(tx.is_terminated());
}

#[test]
fn timer_e_doubles_up_to_t2_and_timer_f_times_out() {
    let t0 = Instant::now();
    let mut tx = ClientTransaction::new(t0, request(Method::Bye, "z9hG4bKb"), T1);
    drain(&mut tx);
    let (sends, other) = run_until(&mut tx, t0, t0 + Duration::from_secs(40));
    let ms: Vec<u128> = sends.iter().map(Duration::as_millis).collect();
    // 0.5, 1.5, 3.5, then every 4 s (T2) until Timer F at 32 s.
    assert_eq!(
        ms,
        vec![
            500, 1500, 3500, 7500, 11500, 15500, 19500, 23500, 27500, 31500
        ]
    );
    assert_eq!(other, vec![TxOutput::TimedOut]);
}

#[test]
fn non_invite_proceeding_retransmits_every_t2_then_completes_with_timer_k() {
    let t0 = Instant::now();
    let req = request(Method::Bye, "z9hG4bKb");
    let mut tx = ClientTransaction::new(t0, req.clone(), T1);
    drain(&mut tx);
    tx.handle_input(
        t0 + Duration::from_millis(100),
        TxInput::Response(response(&req, 100)),
    );
    drain(&mut tx);
    let (sends, _) = run_until(&mut tx, t0, t0 + Duration::from_secs(9));
    let ms: Vec<u128> = sends.iter().map(Duration::as_millis).collect();
    assert_eq!(ms, vec![500, 4500, 8500]);
    let at = t0 + Duration::from_secs(10);
    tx.handle_input(at, TxInput::Response(response(&req, 200)));
    assert!(
        matches!(drain(&mut tx).as_slice(), [TxOutput::Response(r)] if r.status_code.code() == 200)
    );
    assert_eq!(tx.state(), TxState::Completed);
    assert_eq!(tx.poll_timeout(), Some(at + T4), "Timer K");
    tx.handle_input(at, TxInput::Response(response(&req, 200)));
    assert!(drain(&mut tx).is_empty(), "retransmitted final absorbed");
    tx.handle_timeout(at + T4);
    assert!(tx.is_terminated());
}
