-- bench/stats-templates.sql: what carnet-stats templates computes, as one
-- hand-written query (bench/stats.sh runs it with sqlite3 on the same store).
SELECT t.title AS template,
  sum(CASE WHEN m.status IN ('sent','delivered','failed','expired','rejected') THEN m.segments ELSE 0 END) AS sms,
  sum(m.status IN ('sent','delivered','failed','expired','rejected')) AS recipients,
  sum(CASE WHEN m.status = 'delivered' THEN m.segments ELSE 0 END) AS delivered,
  sum(CASE WHEN m.status IN ('failed','expired','rejected') THEN m.segments ELSE 0 END) AS failed,
  sum(CASE WHEN m.status = 'sent' THEN m.segments ELSE 0 END) AS pending,
  sum(CASE WHEN m.status = 'skipped' THEN m.segments ELSE 0 END) AS skipped,
  sum(CASE WHEN m.status IN ('sent','delivered','failed','expired','rejected') THEN y.replies ELSE 0 END) AS replies,
  sum(CASE WHEN m.status IN ('sent','delivered','failed','expired','rejected') THEN y.replied ELSE 0 END) AS replied,
  sum(CASE WHEN m.status IN ('sent','delivered','failed','expired','rejected') THEN y.optout ELSE 0 END) AS optouts,
  sum(CASE WHEN m.status = 'simulated' THEN m.segments ELSE 0 END) AS simulated_sms,
  sum(m.status = 'simulated') AS simulated_recipients
FROM message m
LEFT JOIN (SELECT message_id, sum(kind = 'reply') AS replies, max(kind = 'reply') AS replied,
             max(kind = 'optout') AS optout FROM reply GROUP BY message_id) y ON y.message_id = m.id
JOIN template t ON t.id = m.template_id
WHERE m.sent_at >= strftime('%s', '2025-11-01') AND m.sent_at < strftime('%s', '2026-11-01')
GROUP BY m.template_id ORDER BY sms DESC, t.title;
