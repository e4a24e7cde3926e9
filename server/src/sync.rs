//! The sync protocol's endpoints (docs/sync-protocol.md, version 3).
//!
//! Push: append-lane records are stored once, whatever the number of
//! retries; mutation-lane changes are applied once each, in order per device
//! (`items`). Both in one transaction. Pull: the journal in position
//! order, in pages, from a cursor (see `journal` for why nothing is skipped).

use crate::audit::{self, Action, AuditEvent};
use crate::care_team;
use crate::clock::now_ms;
use crate::error::{ApiError, ApiResult};
use crate::items;
use crate::journal::{self, Position};
use crate::json::JsonBody;
use crate::session::{Role, Session};
use crate::state::AppState;
use axum::extract::{FromRequestParts, RawQuery, Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Json;
use parcours_domain::record::{Opening, Reference};
use parcours_domain::sync::{
    ChecksumResponse, Cursor, ItemState, Mutation, PullQuery, PullResponse, PushError, PushRequest,
    PushResponse, Record, DEFAULT_PULL_LIMIT, MAX_PULL_LIMIT, PROTOCOL_3_KINDS,
};
use parcours_domain::{AccountId, DeviceId, PatientId};
use serde::Deserialize;
use serde_json::value::RawValue;
use std::collections::BTreeSet;

/// Middleware of the sync routes: the session is checked and the account
/// takes one of its places (429 when it already holds them all) before the
/// request queues for a shared place or its body is read.
pub async fn admission(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let (mut parts, body) = request.into_parts();
    let session = match Session::from_request_parts(&mut parts, &state).await {
        Ok(session) => session,
        Err(e) => return e.into_response(),
    };
    let Some(_place) = state.enter_sync(session.account_id) else {
        return ApiError::Busy(
            "Trop de synchronisations en cours pour ce compte : nouvel essai dans un instant.",
        )
        .into_response();
    };
    parts.extensions.insert(session);
    next.run(Request::from_parts(parts, body)).await
}

/// A push as it arrives: records and mutations are decoded one by one
/// (below) so that an error inside one is reported with its full path.
#[derive(Deserialize)]
pub struct PushEnvelope {
    protocol: u32,
    #[serde(default)]
    records: Vec<Box<RawValue>>,
    #[serde(default)]
    mutations: Vec<Box<RawValue>>,
}

fn located(prefix: &str, e: parcours_domain::FieldError) -> ApiError {
    let field = if e.field.is_empty() {
        prefix.to_string()
    } else {
        format!("{prefix}.{}", e.field)
    };
    ApiError::bad_request(field, e.message)
}

impl PushEnvelope {
    fn decode(self) -> ApiResult<PushRequest> {
        Ok(PushRequest {
            protocol: self.protocol,
            records: self
                .records
                .iter()
                .enumerate()
                .map(|(i, raw)| {
                    Record::from_json(raw.get()).map_err(|e| located(&format!("records[{i}]"), e))
                })
                .collect::<ApiResult<_>>()?,
            mutations: self
                .mutations
                .iter()
                .enumerate()
                .map(|(i, raw)| {
                    Mutation::from_json(raw.get())
                        .map_err(|e| located(&format!("mutations[{i}]"), e))
                })
                .collect::<ApiResult<_>>()?,
        })
    }
}

/// What a push claims about who and where, element by element.
fn claims(
    request: &PushRequest,
) -> impl Iterator<Item = (String, AccountId, DeviceId, PatientId)> + '_ {
    let records = request.records.iter().enumerate().map(|(i, r)| {
        (
            format!("records[{i}]"),
            r.author_id(),
            r.device_id(),
            r.patient_id(),
        )
    });
    let mutations = request.mutations.iter().enumerate().map(|(i, m)| {
        let m = m.envelope();
        (
            format!("mutations[{i}]"),
            m.author_id,
            m.device_id,
            m.patient_id,
        )
    });
    records.chain(mutations)
}

/// `POST /api/sync/push`.
pub async fn push(
    State(state): State<AppState>,
    session: Session,
    JsonBody(envelope): JsonBody<PushEnvelope>,
) -> ApiResult<Json<PushResponse>> {
    let request = envelope.decode()?;
    request.validate_at(now_ms()).map_err(|e| match e {
        PushError::Invalid(e) => ApiError::invalid(e),
        PushError::OutOfOrder(e) => ApiError::Conflict {
            field: e.field,
            message: e.message,
        },
    })?;

    // A device speaks only for the account and the device of its session.
    for (at, author, device, _) in claims(&request) {
        if author != session.account_id {
            return Err(ApiError::Forbidden {
                field: format!("{at}.author_id"),
                message: "L'auteur doit être la personne connectée.".into(),
            });
        }
        if device != session.device_id {
            return Err(ApiError::Forbidden {
                field: format!("{at}.device_id"),
                message: "L'appareil doit être celui de la session.".into(),
            });
        }
    }
    // Who may write what: a patient writes their own diary and nothing
    // else; a professional writes everything but a patient's diary.
    match session.patient() {
        Some(own) => {
            if !request.mutations.is_empty() {
                return Err(ApiError::Forbidden {
                    field: "mutations".into(),
                    message: "Le plan est tenu par l'équipe de soins : parlez-lui de ce que vous voulez changer.".into(),
                });
            }
            for (i, record) in request.records.iter().enumerate() {
                if !record.written_by_patient() {
                    return Err(ApiError::Forbidden {
                        field: format!("records[{i}].kind"),
                        message: "Réservé aux professionnels de l'équipe de soins.".into(),
                    });
                }
                if record.patient_id() != own {
                    care_team::require_member(
                        &state,
                        &session,
                        record.patient_id(),
                        &format!("records[{i}].patient_id"),
                    )
                    .await?;
                }
            }
            return store_push(&state, &session, &request, &[]).await;
        }
        None => {
            if let Some(i) = request.records.iter().position(Record::written_by_patient) {
                return Err(ApiError::Forbidden {
                    field: format!("records[{i}].kind"),
                    message: "Le journal de douleur est tenu par le patient lui-même.".into(),
                });
            }
            for (i, record) in request.records.iter().enumerate() {
                if let Some(e) = record.server_made() {
                    let e = e.within(&format!("records[{i}]"));
                    return Err(ApiError::Forbidden {
                        field: e.field,
                        message: e.message,
                    });
                }
            }
        }
    }
    // Rules about the people records and changes name (who may include,
    // who is in the team, who countersigns), against the accounts the
    // server knows. Who may write something is a matter of rights (403);
    // whom it names, of content (422).
    if !request.records.is_empty() || !request.mutations.is_empty() {
        let mut conn = state.db.pool.acquire().await?;
        let directory = care_team::Directory::load(&mut conn).await?;
        let refusal = |e: parcours_domain::FieldError, at: String, forbidden: bool| {
            let e = e.within(&at);
            if forbidden {
                ApiError::Forbidden {
                    field: e.field,
                    message: e.message,
                }
            } else {
                ApiError::invalid(e)
            }
        };
        for (i, record) in request.records.iter().enumerate() {
            record.check_people(&directory).map_err(|e| {
                let forbidden = e.field == "author_id";
                refusal(e, format!("records[{i}]"), forbidden)
            })?;
        }
        for (i, mutation) in request.mutations.iter().enumerate() {
            mutation
                .check_people(&directory)
                .map_err(|e| refusal(e, format!("mutations[{i}]"), true))?;
        }
    }
    // Access is checked before anything is written; a refusal writes nothing
    // but its audit row. (An item's own patient is checked against the
    // mutation's by the merge rules.) A patient the server does not know may
    // be brought in by an inclusion in this push, whose author then joins
    // the team with it.
    let mut openings: Vec<Opening> = vec![];
    let mut checked = BTreeSet::new();
    for (at, _, _, patient) in claims(&request) {
        if !checked.insert(patient) {
            continue;
        }
        let opening = request
            .records
            .iter()
            .filter(|r| r.patient_id() == patient)
            .find_map(Record::opens);
        if let Some(opening) = opening {
            let mut conn = state.db.pool.acquire().await?;
            if !care_team::patient_exists(&mut conn, patient).await? {
                openings.push(opening);
                continue;
            }
        }
        care_team::require_member(&state, &session, patient, &format!("{at}.patient_id")).await?;
    }
    // An item's owner answers for it to the team, and a notebook entry is
    // addressed to members of it: they must be of the team.
    {
        let mut conn = state.db.pool.acquire().await?;
        for (i, r) in request.records.iter().enumerate() {
            let patient = r.patient_id();
            let opening = openings.iter().find(|o| o.patient.id == patient);
            for (field, who) in r.members_named() {
                let member = match opening {
                    Some(o) => o.team.contains(&who),
                    None => care_team::is_member(&mut conn, who, patient).await?,
                };
                if !member {
                    return Err(ApiError::unprocessable(
                        format!("records[{i}].{field}"),
                        "Ce destinataire ne fait pas partie de l'équipe de soins du patient.",
                    ));
                }
            }
        }
        for (i, m) in request.mutations.iter().enumerate() {
            let patient = m.envelope().patient_id;
            // A patient brought in by this very push has the team it opens with.
            let opening = openings.iter().find(|o| o.patient.id == patient);
            for (j, owner) in m.new_owners() {
                let member = match opening {
                    Some(o) => o.team.contains(&owner),
                    None => care_team::is_member(&mut conn, owner, patient).await?,
                };
                if !member {
                    return Err(ApiError::unprocessable(
                        format!("mutations[{i}].changes[{j}].value"),
                        "Le responsable doit faire partie de l'équipe de soins du patient.",
                    ));
                }
            }
        }
    }
    store_push(&state, &session, &request, &openings).await
}

/// Stores a push whose every element has been checked, in one transaction,
/// and acknowledges it once committed.
async fn store_push(
    state: &AppState,
    session: &Session,
    request: &PushRequest,
    openings: &[Opening],
) -> ApiResult<Json<PushResponse>> {
    if request.records.is_empty() && request.mutations.is_empty() {
        let mut conn = state.db.pool.acquire().await?;
        return Ok(Json(PushResponse {
            acknowledged: vec![],
            last_mutation_id: items::last_mutation_id(&mut conn, session).await?,
        }));
    }

    let mut tx = state.db.pool.begin().await?;
    // The clock first: it orders this transaction after every other writer.
    // Patients brought in take one number (their team's memberships), then
    // each record and mutation one.
    let opened = i64::from(!openings.is_empty());
    let count = i64::try_from(request.records.len() + request.mutations.len())
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    let first = journal::reserve(&mut tx, count + opened).await?;
    for opening in openings {
        care_team::open_patient(&mut tx, &session.into(), opening, first).await?;
    }
    let first = first + opened;
    store_records(&mut tx, session, &request.records, first).await?;
    let first_item_seq = first + request.records.len() as i64;
    let last_mutation_id = items::apply_mutations(
        &mut tx,
        session,
        &request.mutations,
        first_item_seq..first + count,
    )
    .await?;
    // Only a committed push is acknowledged: the answer leaves after this line.
    tx.commit().await?;
    Ok(Json(PushResponse {
        acknowledged: request.records.iter().map(Record::id).collect(),
        last_mutation_id,
    }))
}

/// Stores a push's records in the caller's transaction. A record stored
/// before (a retry) is acknowledged again if it is the very same record; an
/// id already used by another record, or the same id with other content, is
/// refused (409): acknowledging it would make the device drop what it holds.
async fn store_records(
    tx: &mut sqlx::AnyConnection,
    session: &Session,
    records: &[Record],
    first_seq: i64,
) -> ApiResult<()> {
    // A correction names a record of the same patient and kind; a record
    // may refer to others of the same patient (an exit to its inclusion).
    // Each is stored already, or earlier in this push.
    for (i, record) in records.iter().enumerate() {
        let mut references: Vec<(Reference, &str)> = vec![];
        if let Some(amended) = record.amends() {
            references.push((
                Reference {
                    field: "amends",
                    id: amended,
                    kinds: &[],
                    author_among: None,
                },
                "L'enregistrement corrigé est inconnu pour ce patient.",
            ));
        }
        for r in record.refers_to() {
            references.push((r, "L'enregistrement indiqué est inconnu pour ce patient."));
        }
        for (reference, message) in references {
            let (field, id) = (reference.field, reference.id);
            // A correction names a record of its own kind.
            let kinds = if field == "amends" {
                vec![record.kind()]
            } else {
                reference.kinds.to_vec()
            };
            let in_push = records[..i].iter().find(|r| r.id() == id);
            if let Some(rule) = reference.author_among {
                let referred = match in_push {
                    Some(r) => serde_json::to_value(r).ok(),
                    None => journal::stored(tx, id)
                        .await?
                        .and_then(|s| serde_json::from_str(&s.body).ok()),
                };
                if referred.is_some_and(|v| !reference.admits(&v, record.author_id())) {
                    return Err(ApiError::Forbidden {
                        field: format!("records[{i}].author_id"),
                        message: rule.refusal.into(),
                    });
                }
            }
            let in_push = in_push.map(|r| (r.kind().to_string(), r.patient_id().to_string()));
            // A restricted record the author may not read is, for them,
            // one that does not exist.
            let profession = match session.role {
                Role::Professional(p) => Some(p),
                Role::Patient(_) => None,
            };
            let found = match in_push {
                Some(found) => Some(found),
                None => journal::stored(tx, id)
                    .await?
                    .filter(|s| journal::may_read(s.readers.as_deref(), profession))
                    .map(|s| (s.kind, s.patient_id)),
            };
            let fits = found.is_some_and(|(kind, patient)| {
                kinds.contains(&kind.as_str()) && patient == record.patient_id().to_string()
            });
            if !fits {
                return Err(ApiError::unprocessable(
                    format!("records[{i}].{field}"),
                    message,
                ));
            }
        }
    }
    let all: Vec<&Record> = records.iter().collect();
    let inserted: BTreeSet<uuid::Uuid> = journal::insert_records(tx, &all, first_seq)
        .await?
        .into_iter()
        .collect();
    for (i, record) in records.iter().enumerate() {
        if inserted.contains(&record.id()) {
            continue;
        }
        let stored = journal::stored(tx, record.id()).await?;
        let retry = stored.as_ref().is_some_and(|s| {
            s.author_id.as_deref() == Some(session.account_id.to_string().as_str())
                && journal::same_record(&s.body, record)
        });
        if !retry {
            return Err(ApiError::Conflict {
                field: format!("records[{i}].id"),
                message: "Cet identifiant est déjà celui d'un autre enregistrement.".into(),
            });
        }
    }
    let events: Vec<AuditEvent> = records
        .iter()
        .filter(|r| inserted.contains(&r.id()))
        .map(|r| {
            AuditEvent::new(Action::WriteRecord)
                .patient(r.patient_id())
                .record(r.id())
                .detail(r.kind())
        })
        .collect();
    audit::record_many(tx, &session.into(), &events).await?;
    Ok(())
}

fn query_error(field: &str) -> ApiError {
    let message = match field {
        "cursor" => "Curseur invalide : renvoyez celui que le serveur a donné.".to_string(),
        "limit" => format!("La taille de page va de 1 à {MAX_PULL_LIMIT}."),
        "estimate" => "« estimate » vaut true ou false.".to_string(),
        _ => "Paramètre de requête invalide.".to_string(),
    };
    ApiError::bad_request(field, message)
}

fn parse_query(raw: Option<&str>) -> ApiResult<PullQuery> {
    let de =
        serde_urlencoded::Deserializer::new(form_urlencoded::parse(raw.unwrap_or("").as_bytes()));
    serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        query_error(if path == "." { "query" } else { &path })
    })
}

/// What a client of this protocol version is sent: a protocol-3 client (one
/// that does not say) only the kinds it knows, so it never sets aside what
/// it could not read. Its cursor moves past the others; a client updated to
/// version 4 pulls again from the start (docs/sync-protocol.md).
fn kinds_for(protocol: Option<u32>) -> journal::Kinds {
    match protocol {
        Some(v) if v >= 4 => journal::Kinds::All,
        _ => journal::Kinds::Only(PROTOCOL_3_KINDS),
    }
}

fn audience(session: &Session) -> journal::Audience {
    match session.role {
        Role::Patient(patient) => journal::Audience::Patient(patient),
        Role::Professional(profession) => journal::Audience::Team(session.account_id, profession),
    }
}

/// What a patient's device receives of a journal entry: the entry as the
/// domain lets the patient read it (see `RecordBody::shown_to_patient`,
/// `Editable::for_patient`), or nothing.
fn for_patient(kind: &str, body: &str) -> Option<String> {
    let unreadable = |e: parcours_domain::FieldError| {
        // The server's own stored JSON: a failure here is a bug, not input.
        tracing::error!(%kind, error = %e, "unreadable journal entry kept from a patient");
    };
    if journal::is_editable(kind) {
        let state = ItemState::from_json(body).map_err(unreadable).ok()?;
        serde_json::to_string(&state.for_patient()?).ok()
    } else {
        let record = Record::from_json(body).map_err(unreadable).ok()?;
        record.shown_to_patient().then(|| body.to_string())
    }
}

/// `GET /api/sync/pull?cursor=…&limit=…&estimate=…&protocol=…`.
pub async fn pull(
    State(state): State<AppState>,
    session: Session,
    RawQuery(raw): RawQuery,
) -> ApiResult<Response> {
    let query = parse_query(raw.as_deref())?;
    let limit = query.limit.unwrap_or(DEFAULT_PULL_LIMIT);
    if limit == 0 || limit > MAX_PULL_LIMIT {
        return Err(query_error("limit"));
    }
    // Nothing above this committed clock value is read (see `journal`).
    let upto = journal::clock(&state.db.pool).await?;
    let after = match query.cursor.as_ref().map(|c| c.0.as_str()) {
        None | Some("") => Position::default(),
        Some(c) => c
            .parse::<Position>()
            .ok()
            // A position the clock has not reached was never issued (a typo,
            // a device restored against another server): refused, so the
            // device starts again from the beginning rather than wait there.
            .filter(|p| p.pos <= upto)
            .ok_or_else(|| query_error("cursor"))?,
    };

    let kinds = kinds_for(query.protocol);
    let audience = audience(&session);
    // One more than asked tells whether another page is waiting.
    let mut entries = journal::page(
        &state.db.pool,
        audience,
        kinds,
        after,
        upto,
        i64::from(limit) + 1,
    )
    .await?;
    let has_more = entries.len() > limit as usize;
    entries.truncate(limit as usize);
    // A page that is not full has seen everything up to the clock value.
    let next = match entries.last() {
        Some(last) if has_more => last.position(),
        _ => Position::at(upto).max(after),
    };

    let patients: BTreeSet<&str> = entries.iter().map(|e| e.patient_id.as_str()).collect();
    let events = patients
        .iter()
        .filter_map(|p| p.parse().ok())
        .map(|p| {
            AuditEvent::new(Action::ReadRecords)
                .patient(p)
                .detail("sync_pull")
        })
        .collect();
    audit::record_reads(&state.db.pool, &session, events).await?;

    let mut records = Vec::new();
    let mut items = Vec::new();
    for mut entry in entries {
        if let journal::Audience::Patient(_) = audience {
            // The cursor has moved past it either way: what the patient may
            // not read is simply not sent.
            match for_patient(&entry.kind, &entry.body) {
                Some(body) => entry.body = body,
                None => continue,
            }
        }
        let body = RawValue::from_string(entry.body)
            .map_err(|e| ApiError::Internal(format!("unreadable journal entry: {e}")))?;
        if journal::is_editable(&entry.kind) {
            items.push(body);
        } else {
            records.push(body);
        }
    }
    let remaining = if query.estimate {
        Some(journal::remaining(&state.db.pool, audience, kinds, next, upto).await?)
    } else {
        None
    };
    let mut conn = state.db.pool.acquire().await?;
    let page = PullResponse {
        remaining,
        records,
        items,
        last_mutation_id: items::last_mutation_id(&mut conn, &session).await?,
        next_cursor: Cursor(next.to_string()),
        has_more,
    };
    // Written into a buffer of the page's own size, not one grown by
    // doubling as `Json` does: at 2,000 records (~1 MB) the growth held
    // up to three times the page at once, and the allocator keeps the
    // peak — what a pull adds to the server's memory.
    let size = page
        .records
        .iter()
        .chain(&page.items)
        .map(|r| r.get().len() + 1)
        .sum::<usize>()
        + 256;
    let mut body = Vec::with_capacity(size);
    serde_json::to_writer(&mut body, &page).map_err(|e| ApiError::Internal(e.to_string()))?;
    Ok((
        [(
            axum::http::header::CONTENT_TYPE,
            axum::http::HeaderValue::from_static("application/json"),
        )],
        body,
    )
        .into_response())
}

#[derive(Deserialize)]
pub struct ChecksumQuery {
    /// 3 and above: records and items (3: of the kinds it knows). Absent
    /// (protocol 2 clients): care-plan items only.
    #[serde(default)]
    protocol: Option<u32>,
}

/// `GET /api/sync/checksum`: the checksum of what this person may see, to
/// compare with the device's copy after a pull. Audited like a read: it says
/// which records and items exist.
pub async fn checksum(
    State(state): State<AppState>,
    session: Session,
    RawQuery(raw): RawQuery,
) -> ApiResult<Json<ChecksumResponse>> {
    let query: ChecksumQuery = serde_urlencoded::from_str(raw.as_deref().unwrap_or(""))
        .map_err(|_| query_error("protocol"))?;
    let items_only = query.protocol.unwrap_or(2) < 3;
    let kinds = kinds_for(query.protocol);
    let (pairs, records) = match audience(&session) {
        journal::Audience::Team(account, profession) => {
            journal::versions(&state.db.pool, account, profession, kinds, items_only).await?
        }
        journal::Audience::Patient(patient) => {
            let mut pairs = vec![];
            let mut records = 0;
            for (id, kind, version, body) in
                journal::patient_file(&state.db.pool, patient, kinds).await?
            {
                let editable = journal::is_editable(&kind);
                if (items_only && !editable) || for_patient(&kind, &body).is_none() {
                    continue;
                }
                records += u64::from(!editable);
                let id = id
                    .parse()
                    .map_err(|_| ApiError::Internal("unreadable journal id".into()))?;
                pairs.push((id, version.max(0) as u64));
            }
            (pairs, records)
        }
    };
    let event = AuditEvent::new(Action::ReadRecords).detail("sync_checksum");
    audit::record_reads(&state.db.pool, &session, vec![event]).await?;
    let items = pairs.len() as u64 - if items_only { 0 } else { records };
    Ok(Json(ChecksumResponse {
        items,
        records: if items_only { 0 } else { records },
        checksum: parcours_domain::sync::checksum(pairs).to_string(),
    }))
}

/// `POST /api/sync/discarded`: the person gave up, on their device, a
/// record or change this server refused. It was never stored; the audit
/// trail keeps who gave up what, for which patient, when and why. Open to
/// anyone signed in, in the patient's team or not: a refusal may come from
/// having left it, and the row says only what its author did.
pub async fn discarded(
    State(state): State<AppState>,
    session: Session,
    JsonBody(given_up): JsonBody<parcours_domain::sync::Discarded>,
) -> ApiResult<axum::http::StatusCode> {
    if let Some(problem) = given_up.problems().into_iter().next() {
        return Err(ApiError::invalid(problem));
    }
    let mut tx = state.db.pool.begin().await?;
    let known: Option<String> = sqlx::query_scalar("SELECT id FROM patients WHERE id = $1")
        .bind(given_up.patient_id.to_string())
        .fetch_optional(&mut *tx)
        .await?;
    if known.is_none() {
        return Err(ApiError::patient_not_found("patient_id"));
    }
    audit::record(
        &mut tx,
        &(&session).into(),
        AuditEvent::new(Action::DiscardRefused)
            .patient(given_up.patient_id)
            .record(given_up.id)
            .detail(format!("{} — {}", given_up.kind.trim(), given_up.reason)),
    )
    .await?;
    tx.commit().await?;
    Ok(axum::http::StatusCode::NO_CONTENT)
}
